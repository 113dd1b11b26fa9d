package udpio

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket addresses are written and read in place, in storage owned by the
// batch, so that no address conversion allocates (as syscall.Sockaddr would).
// unix.RawSockaddrInet6 is the storage: it is large enough for both families.

// putSockaddr writes ap into sa for a socket of the given family and returns
// the address length, or 0 when ap cannot be reached on that family.
func putSockaddr(sa *unix.RawSockaddrInet6, ap netip.AddrPort, family int) uint32 {
	a := ap.Addr()
	if family == unix.AF_INET {
		if !a.Is4() && !a.Is4In6() {
			return 0
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		putPort(&sa4.Port, ap.Port())
		sa4.Addr = a.Unmap().As4()
		sa4.Zero = [8]uint8{}
		return unix.SizeofSockaddrInet4
	}
	if !a.IsValid() {
		return 0
	}
	sa.Family = unix.AF_INET6
	putPort(&sa.Port, ap.Port())
	sa.Flowinfo = 0
	sa.Addr = a.As16() // an IPv4 address becomes IPv4-mapped, as a dual-stack socket wants
	sa.Scope_id = 0
	return unix.SizeofSockaddrInet6
}

// getSockaddr reads the address the kernel wrote into sa; IPv4-mapped IPv6
// addresses (dual-stack sockets) come back as IPv4.
func getSockaddr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), getPort(&sa4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

// The port is in network byte order whatever the host's.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}
