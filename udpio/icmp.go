package udpio

import (
	"net/netip"
	"strconv"
	"syscall"
)

// ICMPError is an ICMP or ICMPv6 error message (RFC 792, RFC 4443) the
// kernel received about a datagram this socket sent, as the socket's error
// queue reports it (Options.ICMPErrors).
type ICMPError struct {
	// Errno is the kernel's reading of the message: ECONNREFUSED for
	// port unreachable, EHOSTUNREACH or ENETUNREACH for host or network
	// unreachable, EACCES for administratively prohibited, EMSGSIZE for
	// fragmentation needed / packet too big, and so on.
	Errno syscall.Errno
	// IPv6 is true for ICMPv6; Type and Code are the message's.
	IPv6       bool
	Type, Code uint8
	// Offender is the address that sent the message, when known.
	Offender netip.Addr
	// Info is the next-hop MTU for fragmentation needed / packet too big.
	Info uint32
}

func (e *ICMPError) Error() string {
	kind := "ICMP"
	if e.IPv6 {
		kind = "ICMPv6"
	}
	s := kind + " type " + strconv.Itoa(int(e.Type)) + " code " + strconv.Itoa(int(e.Code))
	if e.Offender.IsValid() {
		s += " from " + e.Offender.String()
	}
	return "udpio: " + e.Errno.Error() + " (" + s + ")"
}

// Unwrap returns Errno, so that errors.Is(err, syscall.ECONNREFUSED) holds
// for a port unreachable.
func (e *ICMPError) Unwrap() error { return e.Errno }

// Unreachable reports whether the message says the destination cannot be
// reached at all (port, protocol, host or network unreachable, or
// prohibited), as opposed to a path MTU or transient report.
func (e *ICMPError) Unreachable() bool {
	switch e.Errno {
	case syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
		syscall.EHOSTDOWN, syscall.ENOPROTOOPT, syscall.EACCES:
		return true
	}
	return false
}
