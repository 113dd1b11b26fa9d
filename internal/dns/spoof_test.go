package dns_test

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/skiffnet/skiff/internal/dns"
)

// scriptedServer answers each UDP query with the datagrams reply returns,
// for answers dnstest would never send.
func scriptedServer(t *testing.T, reply func(q *dns.Message) [][]byte) netip.AddrPort {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			q, err := dns.ParseMessage(buf[:n])
			if err != nil {
				continue
			}
			for _, d := range reply(q) {
				conn.WriteToUDPAddrPort(d, from)
			}
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// response returns the answer to q with the given records, after edit
// changes it.
func response(t *testing.T, q *dns.Message, answers []dns.RR, edit func(*dns.Message)) []byte {
	m := &dns.Message{
		Header:    dns.Header{ID: q.ID, Response: true, RecursionDesired: true, RecursionAvailable: true},
		Questions: slices.Clone(q.Questions),
		Answers:   answers,
	}
	if edit != nil {
		edit(m)
	}
	b, err := m.Append(nil)
	if err != nil {
		t.Error(err)
	}
	return b
}

// TestMismatchedRepliesIgnored: replies that are not the answer to the
// query sent — garbage, another ID, another question, a query — are
// dropped, and the real answer that follows is taken (RFC 5452 §9.1).
func TestMismatchedRepliesIgnored(t *testing.T) {
	good := []dns.RR{{Name: "example.com.", Type: dns.TypeA, Class: dns.ClassINET, TTL: 60, Data: dns.A{Addr: netip.MustParseAddr("192.0.2.1")}}}
	forged := []dns.RR{{Name: "example.com.", Type: dns.TypeA, Class: dns.ClassINET, TTL: 60, Data: dns.A{Addr: netip.MustParseAddr("203.0.113.66")}}}
	addr := scriptedServer(t, func(q *dns.Message) [][]byte {
		if q.Questions[0].Type != dns.TypeA {
			return [][]byte{response(t, q, nil, nil)}
		}
		return [][]byte{
			[]byte("garbage"),
			response(t, q, forged, func(m *dns.Message) { m.ID++ }),
			response(t, q, forged, func(m *dns.Message) {
				m.Questions = []dns.Question{{Name: "example.net.", Type: dns.TypeA, Class: dns.ClassINET}}
			}),
			response(t, q, forged, func(m *dns.Message) { m.Questions[0].Type = dns.TypeAAAA }),
			response(t, q, forged, func(m *dns.Message) { m.Response = false }),
			response(t, q, forged, func(m *dns.Message) { m.Questions = nil }),
			response(t, q, good, nil),
		}
	})
	ips, _, err := newResolver(addr).LookupIP(testContext(t), "example.com")
	if err != nil || !reflect.DeepEqual(ips, addrs("192.0.2.1")) {
		t.Errorf("LookupIP = %v, %v; want only the genuine answer", ips, err)
	}
}

// TestCNAMENotFollowedByServer: an answer that ends on a CNAME with no
// records and no SOA is asked again at the CNAME's target.
func TestCNAMENotFollowedByServer(t *testing.T) {
	addr := scriptedServer(t, func(q *dns.Message) [][]byte {
		question := q.Questions[0]
		switch {
		case question.Name == "a.example.":
			return [][]byte{response(t, q, []dns.RR{{Name: "a.example.", Type: dns.TypeCNAME, Class: dns.ClassINET, TTL: 30, Data: dns.CNAME{Target: "b.example."}}}, nil)}
		case question.Name == "b.example." && question.Type == dns.TypeA:
			return [][]byte{response(t, q, []dns.RR{{Name: "b.example.", Type: dns.TypeA, Class: dns.ClassINET, TTL: 90, Data: dns.A{Addr: netip.MustParseAddr("192.0.2.2")}}}, nil)}
		}
		return [][]byte{response(t, q, nil, func(m *dns.Message) {
			m.Authorities = []dns.RR{{Name: "example.", Type: dns.TypeSOA, Class: dns.ClassINET, TTL: 10, Data: dns.SOA{MName: "ns.example.", RName: "h.example.", Minimum: 10}}}
		})}
	})
	ips, ttl, err := newResolver(addr).LookupIP(testContext(t), "a.example")
	if err != nil || !reflect.DeepEqual(ips, addrs("192.0.2.2")) || ttl.Seconds() != 30 {
		t.Errorf("LookupIP = %v, %v, %v; want 192.0.2.2 for 30 s (the CNAME's TTL)", ips, ttl, err)
	}
}
