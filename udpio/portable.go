package udpio

import (
	"net"
	"net/netip"
)

// The portable path: one datagram per system call through net.UDPConn, for
// systems without the batched path and for ablation runs on Linux. It has no
// ECN, packet info or offload; the API and its results are the same.

func portableCapabilities(uc *net.UDPConn, opts Options) Capabilities {
	// Best effort: the standard library reports no granted size, so report
	// what was asked when the call succeeded.
	var caps Capabilities
	if uc.SetReadBuffer(opts.ReadBuffer) == nil {
		caps.ReadBuffer = opts.ReadBuffer
	}
	if uc.SetWriteBuffer(opts.WriteBuffer) == nil {
		caps.WriteBuffer = opts.WriteBuffer
	}
	return caps
}

func (c *Conn) readPortable(msgs []Message) (int, error) {
	m := &msgs[0]
	n, addr, err := c.uc.ReadFromUDPAddrPort(m.Buf)
	if err != nil {
		return 0, err
	}
	m.N = n
	m.Addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	m.Local = c.local.Addr()
	m.ECN = ECNNotECT
	m.SegmentSize = 0
	m.ICMP = nil
	return 1, nil
}

func (c *Conn) writePortable(msgs []Message) (int, error) {
	for i := range msgs {
		m := &msgs[i]
		if m.Addr.Addr().Is6() && !m.Addr.Addr().Is4In6() && c.local.Addr().Is4() {
			return i, ErrAddressFamily
		}
		to := m.Addr
		if !c.local.Addr().Is4() && to.Addr().Is4() {
			// A dual-stack IPv6 socket reaches IPv4 peers through mapped addresses.
			to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
		}
		payload := m.Buf[:m.N]
		seg := m.SegmentSize
		if seg <= 0 || seg >= len(payload) {
			if _, err := c.uc.WriteToUDPAddrPort(payload, to); err != nil {
				return i, err
			}
			continue
		}
		for off := 0; off < len(payload); off += seg {
			end := min(off+seg, len(payload))
			if _, err := c.uc.WriteToUDPAddrPort(payload[off:end], to); err != nil {
				return i, err
			}
		}
	}
	return len(msgs), nil
}
