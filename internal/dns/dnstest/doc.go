// Package dnstest is an in-process authoritative DNS server on loopback,
// UDP and TCP on one port, for tests of code that uses internal/dns: give it
// records, point dns.Resolver.Servers at Addr, and make it truncate over UDP
// or drop queries to test the client's fallbacks.
package dnstest
