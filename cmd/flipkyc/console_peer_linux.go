package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// canFindSocketOwner is true where socketOwner works.
const canFindSocketOwner = true

func processUID() int { return os.Getuid() }

// socketOwner returns the uid owning the TCP socket whose own address is
// from and whose peer is to, as the kernel lists it in /proc/net/tcp and
// /proc/net/tcp6.
func socketOwner(from, to *net.TCPAddr) (int, error) {
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		uid, err := findSocketOwner(f, from, to)
		f.Close()
		if err == nil {
			return uid, nil
		}
	}
	return 0, errors.New("socket not listed")
}

// findSocketOwner reads a /proc/net/tcp listing for the socket from → to.
func findSocketOwner(r interface{ Read([]byte) (int, error) }, from, to *net.TCPAddr) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		local, err1 := parseProcAddr(f[1])
		remote, err2 := parseProcAddr(f[2])
		if err1 != nil || err2 != nil || !sameAddr(local, from) || !sameAddr(remote, to) {
			continue
		}
		return strconv.Atoi(f[7])
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("socket not listed")
}

// sameAddr compares addresses, an IPv4 one and its IPv4-mapped IPv6 form
// being the same.
func sameAddr(a, b *net.TCPAddr) bool { return a.Port == b.Port && a.IP.Equal(b.IP) }

// parseProcAddr parses an address as /proc/net/tcp{,6} prints it: the IP
// in hexadecimal, as 32-bit words in the machine's (little-endian) order,
// a colon and the port in hexadecimal.
func parseProcAddr(s string) (*net.TCPAddr, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok || (len(ipHex) != 8 && len(ipHex) != 32) {
		return nil, fmt.Errorf("address %q", s)
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return nil, err
	}
	return &net.TCPAddr{IP: net.IP(raw), Port: int(port)}, nil
}
