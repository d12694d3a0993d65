//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package flipkyc

import (
	"net"
	"syscall"
)

// pending reports whether bytes have arrived on conn's socket that no read
// has taken yet, without taking them or waiting; false when it cannot tell.
func pending(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	found := false
	_ = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		found = err == nil && n > 0
	})
	return found
}
