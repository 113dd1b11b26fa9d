package relay

import (
	"encoding/binary"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The ECN field of the IP header (RFC 3168 §5): ECT(1), ECT(0) and CE.
const (
	ECNNotECT = 0
	ECNECT1   = 1
	ECNECT0   = 2
	ECNCE     = 3
)

// socketBuffer is the relay's socket buffer size: large, so that the
// relay itself never drops what its link model would deliver.
const socketBuffer = 8 << 20

// prepareSocket asks the kernel for each datagram's ECN field and grows
// the buffers. root may set buffers beyond the system maximum.
func prepareSocket(c *net.UDPConn, v6 bool) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if v6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
		}
		for _, opt := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, socketBuffer) != nil {
				// Not root: the system maximum will do.
				c.SetReadBuffer(socketBuffer)
				c.SetWriteBuffer(socketBuffer)
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// readECN returns the ECN field from a datagram's control messages.
func readECN(oob []byte) uint8 {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return ECNNotECT
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TOS && len(m.Data) >= 1:
			return m.Data[0] & 3
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(m.Data) >= 4:
			return uint8(binary.NativeEndian.Uint32(m.Data)) & 3
		}
	}
	return ECNNotECT
}

// ecnControl is the control message that sends a datagram with the given
// ECN field, to an address of the given family.
func ecnControl(ecn uint8, to netip.AddrPort) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.SetLen(unix.CmsgLen(4))
	if to.Addr().Is4() || to.Addr().Is4In6() {
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_TOS
	} else {
		h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_TCLASS
	}
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(ecn))
	return b
}
