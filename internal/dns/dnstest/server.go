package dnstest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/skiffnet/skiff/internal/dns"
)

// DefaultTTL is the TTL of the records the Add helpers create.
const DefaultTTL = 300

// Stats counts the queries a Server received.
type Stats struct {
	UDP, TCP int // queries read, by transport, dropped ones included
	Dropped  int // queries not answered because of SetDrop
}

// Server answers queries from the records it was given, like a recursive
// resolver would: CNAMEs in its data are followed, and a name with no
// record is NXDOMAIN. Safe for concurrent use.
type Server struct {
	tb   testing.TB
	udp  *net.UDPConn
	tcp  *net.TCPListener
	addr netip.AddrPort
	wg   sync.WaitGroup

	mu       sync.Mutex
	records  map[key][]dns.RR
	rcodes   map[string]dns.Rcode
	negTTL   uint32
	truncate bool
	drop     func(dns.Question) bool
	stats    Stats
	conns    map[net.Conn]bool
}

type key struct {
	name string
	typ  dns.Type
}

// NewServer starts a server on 127.0.0.1 (UDP and TCP, same port) and stops
// it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:      tb,
		records: make(map[key][]dns.RR),
		rcodes:  make(map[string]dns.Rcode),
		negTTL:  60,
		conns:   make(map[net.Conn]bool),
	}
	// The kernel picks a free UDP port; the same TCP port may be taken,
	// then try another.
	var err error
	for range 20 {
		if s.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			break
		}
		s.addr = s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
		if s.tcp, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(s.addr)); err == nil {
			break
		}
		s.udp.Close()
	}
	if err != nil {
		tb.Fatalf("dnstest: listen: %v", err)
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	tb.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.udp.Close()
	s.tcp.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Addr is the address to put in dns.Resolver.Servers.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Add adds a record as given (its Name is the owner, its TTL is kept). The
// RDATA may be dns.Unknown to serve bytes the dns package would not write,
// such as a malformed HTTPS record.
func (s *Server) Add(rr dns.RR) {
	if rr.Class == 0 {
		rr.Class = dns.ClassINET
	}
	k := key{dns.CanonicalName(rr.Name), rr.Type}
	s.mu.Lock()
	s.records[k] = append(s.records[k], rr)
	s.mu.Unlock()
}

// AddA adds an A record per IPv4 address and an AAAA record per IPv6
// address at name, with DefaultTTL.
func (s *Server) AddA(name string, addrs ...netip.Addr) {
	for _, a := range addrs {
		if a.Is4() {
			s.Add(dns.RR{Name: name, Type: dns.TypeA, TTL: DefaultTTL, Data: dns.A{Addr: a}})
		} else {
			s.Add(dns.RR{Name: name, Type: dns.TypeAAAA, TTL: DefaultTTL, Data: dns.AAAA{Addr: a}})
		}
	}
}

// AddCNAME adds a CNAME record from name to target, with DefaultTTL.
func (s *Server) AddCNAME(name, target string) {
	s.Add(dns.RR{Name: name, Type: dns.TypeCNAME, TTL: DefaultTTL, Data: dns.CNAME{Target: target}})
}

// AddHTTPS adds an HTTPS record at name, with DefaultTTL.
func (s *Server) AddHTTPS(name string, rec dns.SVCB) {
	s.Add(dns.RR{Name: name, Type: dns.TypeHTTPS, TTL: DefaultTTL, Data: rec})
}

// Remove deletes the records of type t at name.
func (s *Server) Remove(name string, t dns.Type) {
	s.mu.Lock()
	delete(s.records, key{dns.CanonicalName(name), t})
	s.mu.Unlock()
}

// SetRcode makes queries for name answer with rc and no records;
// dns.RcodeSuccess restores normal answers.
func (s *Server) SetRcode(name string, rc dns.Rcode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rc == dns.RcodeSuccess {
		delete(s.rcodes, dns.CanonicalName(name))
		return
	}
	s.rcodes[dns.CanonicalName(name)] = rc
}

// SetNegativeTTL sets the TTL and MINIMUM of the SOA record sent with
// NXDOMAIN and NODATA answers (default 60 s), which bounds how long a
// client caches them (RFC 2308 §5).
func (s *Server) SetNegativeTTL(seconds uint32) {
	s.mu.Lock()
	s.negTTL = seconds
	s.mu.Unlock()
}

// SetTruncateUDP makes every UDP answer empty with TC set, so a client
// must retry over TCP.
func (s *Server) SetTruncateUDP(on bool) {
	s.mu.Lock()
	s.truncate = on
	s.mu.Unlock()
}

// SetDrop makes the server read and ignore every query for which drop
// returns true, over UDP and TCP; nil answers every query. To make a
// resolver that never answers: SetDrop(func(dns.Question) bool { return true }).
func (s *Server) SetDrop(drop func(dns.Question) bool) {
	s.mu.Lock()
	s.drop = drop
	s.mu.Unlock()
}

// Stats returns the query counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if resp := s.respond(buf[:n], false); resp != nil {
			s.udp.WriteToUDPAddrPort(resp, from)
		}
	}
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

// serveConn answers the queries of one TCP connection in turn (RFC 1035
// §4.2.2: each message prefixed with its 2-octet length).
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	for {
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		resp := s.respond(msg, true)
		if resp == nil {
			continue
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// respond returns the wire answer to a query, or nil to send nothing.
func (s *Server) respond(wire []byte, overTCP bool) []byte {
	q, err := dns.ParseMessage(wire)
	if err != nil || q.Response || len(q.Questions) != 1 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if overTCP {
		s.stats.TCP++
	} else {
		s.stats.UDP++
	}
	if s.drop != nil && s.drop(q.Questions[0]) {
		s.stats.Dropped++
		return nil
	}
	resp := s.answer(q)
	// Over UDP an answer must fit the requestor's payload size: 512
	// octets, or more as its OPT record says (RFC 6891 §6.2.5).
	limit := 512
	if q.EDNS != nil {
		limit = max(limit, int(q.EDNS.UDPSize))
	}
	out, err := resp.Append(nil)
	if err != nil { // a record given to Add that cannot be written
		s.tb.Errorf("dnstest: answer to %s %s: %v", q.Questions[0].Name, q.Questions[0].Type, err)
		resp = &dns.Message{Header: resp.Header, Questions: resp.Questions}
		resp.Rcode = dns.RcodeServerFailure
		out, _ = resp.Append(nil)
	}
	if !overTCP && (s.truncate || len(out) > limit) {
		resp.Truncated = true
		resp.Answers, resp.Authorities, resp.Additionals = nil, nil, nil
		out, _ = resp.Append(nil)
	}
	return out
}

// answer builds the response from the records, following CNAMEs of the
// data as a recursive resolver does. Called with s.mu held.
func (s *Server) answer(q *dns.Message) *dns.Message {
	question := q.Questions[0]
	resp := &dns.Message{
		Header: dns.Header{
			ID:                 q.ID,
			Response:           true,
			Opcode:             q.Opcode,
			Authoritative:      true,
			RecursionDesired:   q.RecursionDesired,
			RecursionAvailable: true,
		},
		Questions: q.Questions,
	}
	if q.EDNS != nil {
		resp.EDNS = &dns.EDNS{UDPSize: dns.MaxUDPSize}
	}
	name := dns.CanonicalName(question.Name)
	for range 16 {
		if rc, ok := s.rcodes[name]; ok {
			resp.Rcode = rc
			return resp
		}
		if rrs := s.records[key{name, question.Type}]; len(rrs) > 0 {
			resp.Answers = append(resp.Answers, rrs...)
			return resp
		}
		cname := s.records[key{name, dns.TypeCNAME}]
		if len(cname) == 0 || question.Type == dns.TypeCNAME {
			break
		}
		resp.Answers = append(resp.Answers, cname[0])
		target, ok := cname[0].Data.(dns.CNAME)
		if !ok {
			return resp
		}
		name = dns.CanonicalName(target.Target)
	}
	if !s.exists(name) {
		resp.Rcode = dns.RcodeNameError
	}
	resp.Authorities = []dns.RR{{
		Name: ".", Type: dns.TypeSOA, Class: dns.ClassINET, TTL: s.negTTL,
		Data: dns.SOA{MName: "ns.dnstest.", RName: "hostmaster.dnstest.", Serial: 1,
			Refresh: 3600, Retry: 600, Expire: 86400, Minimum: s.negTTL},
	}}
	return resp
}

// exists reports whether name has any record. Called with s.mu held.
func (s *Server) exists(name string) bool {
	for k := range s.records {
		if k.name == name {
			return true
		}
	}
	return false
}
