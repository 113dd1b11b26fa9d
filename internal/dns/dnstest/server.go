// Package dnstest is an in-process authoritative DNS server on loopback,
// UDP and TCP on one port, for tests of code that uses internal/dns.
package dnstest

import (
	"net/netip"
	"testing"

	"github.com/skiffnet/skiff/internal/dns"
)

// Stats counts the queries a Server received.
type Stats struct {
	UDP, TCP int // queries read, by transport, dropped ones included
	Dropped  int // queries not answered because of SetDrop
}

// Server answers queries from the records it was given. Its zone is the
// whole tree: a name with no record is NXDOMAIN. Safe for concurrent use.
type Server struct{}

// NewServer starts a server on 127.0.0.1 (UDP and TCP, same port) and stops
// it when the test ends.
func NewServer(tb testing.TB) *Server { return &Server{} }

// Addr is the address to put in dns.Resolver.Servers.
func (s *Server) Addr() netip.AddrPort { return netip.AddrPort{} }

// Add adds a record; its Name is the owner, TTL 0 means 300.
func (s *Server) Add(rr dns.RR) {}

// AddA adds A and AAAA records for name, one per address.
func (s *Server) AddA(name string, addrs ...netip.Addr) {}

// AddCNAME adds a CNAME record from name to target.
func (s *Server) AddCNAME(name, target string) {}

// AddHTTPS adds an HTTPS record at name.
func (s *Server) AddHTTPS(name string, rec dns.SVCB) {}

// Remove deletes the records of type t at name.
func (s *Server) Remove(name string, t dns.Type) {}

// SetRcode makes queries for name answer with rc and no records.
func (s *Server) SetRcode(name string, rc dns.Rcode) {}

// SetNegativeTTL sets the SOA minimum sent with NXDOMAIN and NODATA
// answers (default 60 s).
func (s *Server) SetNegativeTTL(seconds uint32) {}

// SetTruncateUDP makes every UDP answer empty with TC set, so a client
// must retry over TCP.
func (s *Server) SetTruncateUDP(on bool) {}

// SetDrop makes the server read and ignore every query for which drop
// returns true; nil answers every query.
func (s *Server) SetDrop(drop func(dns.Question) bool) {}

// Stats returns the query counts so far.
func (s *Server) Stats() Stats { return Stats{} }
