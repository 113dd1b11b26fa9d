package skiffep

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/skiffnet/skiff/interop/endpoint"
	"github.com/skiffnet/skiff/quic"
)

// preferredPort is the port of the preferred address when the runner does
// not name one: the server's own addresses at this port.
const preferredPort = 4434

// listenPreferred opens the listeners of a connectionmigration server:
// each announces a preferred address of its family (RFC 9000 §9.6), the
// one the runner names (PREFERRED_ADDRESS, listening at PREFERRED_LISTEN)
// or, without it, the host's own address at port 4434.
func listenPreferred(s *endpoint.Setup, qc *quic.Config) ([]*quic.Listener, error) {
	announce, bind, err := preferredAddrs(s.PreferredAddress, s.PreferredListen)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return nil, err
	}
	type family struct{ network, host string }
	families := []family{{"udp4", "0.0.0.0"}, {"udp6", "::"}}
	if host != "" && host != "::" && host != "0.0.0.0" {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return nil, err
		}
		families = []family{{"udp4", host}}
		if a.Is6() && !a.Is4In6() {
			families = []family{{"udp6", host}}
		}
	}
	var lns []*quic.Listener
	for _, f := range families {
		c := *qc
		pa := &quic.PreferredAddress{}
		if f.network == "udp4" {
			pa.IPv4, pa.BindIPv4 = announce[0], bind[0]
		} else {
			pa.IPv6, pa.BindIPv6 = announce[1], bind[1]
		}
		if pa.IPv4.IsValid() || pa.IPv6.IsValid() {
			c.PreferredAddress = pa
		}
		ln, err := quic.Listen(f.network, net.JoinHostPort(f.host, port), &c)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// preferredAddrs returns the preferred address to announce and to bind,
// per family ([0] IPv4, [1] IPv6).
func preferredAddrs(announce, listen string) (ann, bind [2]netip.AddrPort, err error) {
	if announce == "" {
		ann = ownAddrs()
		return ann, ann, nil
	}
	a, err := netip.ParseAddrPort(announce)
	if err != nil {
		return ann, bind, fmt.Errorf("PREFERRED_ADDRESS: %w", err)
	}
	b := a
	if listen != "" {
		if b, err = netip.ParseAddrPort(listen); err != nil {
			return ann, bind, fmt.Errorf("PREFERRED_LISTEN: %w", err)
		}
	}
	i := 0
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		i = 1
	}
	ann[i], bind[i] = a, b
	return ann, bind, nil
}

// ownAddrs finds the host's first global unicast address of each family,
// at preferredPort.
func ownAddrs() (out [2]netip.AddrPort) {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		p, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(p.IP)
		if !ok || !ip.IsGlobalUnicast() {
			continue
		}
		ip = ip.Unmap()
		i := 0
		if ip.Is6() {
			i = 1
		}
		if !out[i].IsValid() {
			out[i] = netip.AddrPortFrom(ip, preferredPort)
		}
	}
	return out
}
