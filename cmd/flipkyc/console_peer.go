package main

import (
	"context"
	"net"
)

// A console without a token is served on loopback to the user who started
// it only: every local user can connect to a loopback port, so each
// connection's other end is looked up (socketOwner) and a connection from
// a socket another user owns is answered 403. Where the owner cannot be
// found (not Linux), a console without a token is refused at start.

// peerKey marks a connection's context with whether its other end is a
// socket of this process's user.
type peerKey struct{}

// markPeer is the server's ConnContext: it records whether the
// connection's other end belongs to this process's user.
func markPeer(ctx context.Context, conn net.Conn) context.Context {
	return context.WithValue(ctx, peerKey{}, sameUser(conn))
}

// sameUser reports whether conn comes from a loopback socket owned by this
// process's user.
func sameUser(conn net.Conn) bool {
	local, ok1 := conn.LocalAddr().(*net.TCPAddr)
	remote, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 || !remote.IP.IsLoopback() {
		return false
	}
	uid, err := socketOwner(remote, local)
	return err == nil && uid == processUID()
}

// peerIsOwner reports what markPeer recorded for the request's connection.
func peerIsOwner(ctx context.Context) bool {
	ok, _ := ctx.Value(peerKey{}).(bool)
	return ok
}
