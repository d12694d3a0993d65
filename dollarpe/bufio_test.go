package dollarpe

import (
	"bufio"
	"net"
)

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
