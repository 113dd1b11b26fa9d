package udpio

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Control messages (cmsg(3)) are parsed and built by hand, on bytes the
// batch owns, so that neither direction allocates. The parser treats its
// input as untrusted: every length is checked against the buffer.

const (
	cmsgAlign   = int(unsafe.Sizeof(uintptr(0)))
	cmsgHdrLen  = unix.SizeofCmsghdr         // struct cmsghdr
	cmsgLenSize = unix.SizeofCmsghdr - 4 - 4 // cmsg_len is a size_t; level and type are ints
)

// Space for the control messages the kernel may attach to one received
// datagram: TOS and Traffic Class, both packet infos (a dual-stack socket may
// get IP_PKTINFO and IPV6_PKTINFO for an IPv4 datagram) and the GRO size.
const recvControlSpace = 160

// Space for the control messages of one send: UDP_SEGMENT, TOS or Traffic
// Class, and one packet info.
const sendControlSpace = 96

var (
	errControlShort  = errors.New("udpio: control message header truncated")
	errControlLength = errors.New("udpio: control message length out of bounds")
)

// recvMeta is what the control messages of one received datagram say.
type recvMeta struct {
	tos     uint8 // TOS byte (IPv4) or Traffic Class (IPv6)
	hasTOS  bool
	local   netip.Addr // destination address of the datagram (packet info)
	segSize int        // GRO segment size, 0 when not coalesced

	// An error-queue entry's sock_extended_err (icmp_linux.go).
	hasErr             bool
	errno, info        uint32
	origin             uint8
	icmpType, icmpCode uint8
	offender           netip.Addr
}

func cmsgAlignUp(n int) int { return (n + cmsgAlign - 1) &^ (cmsgAlign - 1) }

// parseControl reads the control messages in b into m. Messages it does not
// know are skipped; it stops at the first malformed header and returns an
// error, keeping what it read before.
func parseControl(b []byte, m *recvMeta) error {
	*m = recvMeta{}
	for len(b) > 0 {
		if len(b) < cmsgHdrLen {
			return errControlShort
		}
		var l uint64
		if cmsgLenSize == 8 {
			l = binary.NativeEndian.Uint64(b)
		} else {
			l = uint64(binary.NativeEndian.Uint32(b))
		}
		if l < uint64(cmsgHdrLen) || l > uint64(len(b)) {
			return errControlLength
		}
		level := int32(binary.NativeEndian.Uint32(b[cmsgLenSize:]))
		typ := int32(binary.NativeEndian.Uint32(b[cmsgLenSize+4:]))
		parseOne(level, typ, b[cmsgHdrLen:l], m)
		next := cmsgAlignUp(int(l))
		if next >= len(b) {
			break
		}
		b = b[next:]
	}
	return nil
}

// parseOne reads one control message's data; short data is ignored.
func parseOne(level, typ int32, data []byte, m *recvMeta) {
	switch {
	case level == unix.IPPROTO_IP && typ == unix.IP_TOS:
		// The kernel sends the TOS byte alone (ip_cmsg_recv_tos).
		if len(data) >= 1 {
			m.tos, m.hasTOS = data[0], true
		}
	case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_TCLASS:
		// The Traffic Class comes as an int.
		if len(data) >= 4 {
			m.tos, m.hasTOS = byte(binary.NativeEndian.Uint32(data)), true
		}
	case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO:
		// struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
		if len(data) >= unix.SizeofInet4Pktinfo {
			m.local = netip.AddrFrom4([4]byte(data[8:12]))
		}
	case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO:
		// struct in6_pktinfo { in6_addr ipi6_addr; int ipi6_ifindex; }
		if len(data) >= unix.SizeofInet6Pktinfo && !m.local.IsValid() {
			m.local = netip.AddrFrom16([16]byte(data[:16])).Unmap()
		}
	case level == unix.IPPROTO_IP && typ == unix.IP_RECVERR,
		level == unix.IPPROTO_IPV6 && typ == unix.IPV6_RECVERR:
		parseExtendedErr(data, m)
	case level == unix.IPPROTO_UDP && typ == unix.UDP_GRO:
		// The segment size is an int (older kernels: a uint16).
		switch {
		case len(data) >= 4:
			m.segSize = int(int32(binary.NativeEndian.Uint32(data)))
		case len(data) >= 2:
			m.segSize = int(binary.NativeEndian.Uint16(data))
		}
		if m.segSize < 0 {
			m.segSize = 0
		}
	}
}

// putCmsg writes a control message header for dataLen bytes of data at the
// start of b and returns the data area and the space used. b must hold
// unix.CmsgSpace(dataLen) bytes.
func putCmsg(b []byte, level, typ int32, dataLen int) (data []byte, used int) {
	l := cmsgHdrLen + dataLen
	if cmsgLenSize == 8 {
		binary.NativeEndian.PutUint64(b, uint64(l))
	} else {
		binary.NativeEndian.PutUint32(b, uint32(l))
	}
	binary.NativeEndian.PutUint32(b[cmsgLenSize:], uint32(level))
	binary.NativeEndian.PutUint32(b[cmsgLenSize+4:], uint32(typ))
	used = cmsgHdrLen + cmsgAlignUp(dataLen)
	data = b[cmsgHdrLen:l]
	clear(b[l:used])
	return data, used
}

// sendControl describes the control messages of one send.
type sendControl struct {
	segSize int        // UDP_SEGMENT, 0 for none
	ecn     ECN        // 0: no TOS message (the socket default, Not-ECT)
	from    netip.Addr // source address, invalid for none
	family  int        // the socket's address family
	dest4   bool       // destination is IPv4 (on an IPv6 socket: IPv4-mapped)
}

// buildControl writes the control messages of one send into b and returns
// their length.
func buildControl(b []byte, sc sendControl) int {
	n := 0
	if sc.segSize > 0 {
		// The kernel reads a uint16 (udp_cmsg_send).
		data, used := putCmsg(b[n:], unix.IPPROTO_UDP, unix.UDP_SEGMENT, 2)
		binary.NativeEndian.PutUint16(data, uint16(sc.segSize))
		n += used
	}
	// IPv4 destinations, also IPv4-mapped ones on a dual-stack socket, are
	// sent by the IPv4 stack, which reads only SOL_IP messages (and
	// IPV6_PKTINFO).
	v4 := sc.family == unix.AF_INET || sc.dest4
	if sc.ecn != ECNNotECT {
		var data []byte
		var used int
		if v4 {
			data, used = putCmsg(b[n:], unix.IPPROTO_IP, unix.IP_TOS, 4)
		} else {
			data, used = putCmsg(b[n:], unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4)
		}
		binary.NativeEndian.PutUint32(data, uint32(sc.ecn))
		n += used
	}
	if sc.from.IsValid() {
		if v4 {
			if sc.from.Is4() || sc.from.Is4In6() {
				data, used := putCmsg(b[n:], unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo)
				clear(data)
				a := sc.from.Unmap().As4()
				copy(data[4:8], a[:]) // ipi_spec_dst: the source address to use
				n += used
			}
		} else if sc.from.Is6() && !sc.from.Is4In6() {
			data, used := putCmsg(b[n:], unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
			clear(data)
			a := sc.from.As16()
			copy(data[:16], a[:])
			n += used
		}
	}
	return n
}
