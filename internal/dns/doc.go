// Package dns is skiff's own small DNS stub resolver, written for HTTP/3
// discovery (h3's transport): HTTPS records (RFC 9460) that let the first
// request to an origin go over HTTP/3, and the A/AAAA lookups of their
// targets through the same configured server. The module depends on no DNS
// library, so this package carries what that needs and no more.
//
// # Parts
//
//   - The message codec, sans I/O: NewQuery builds a recursive query with
//     a random ID and an EDNS0 OPT record offering 1232 octets (RFC 6891);
//     ParseMessage decodes a response (RFC 1035 §4): header with TC and the
//     extended RCODE, the four sections, compressed names whose pointers
//     must point backwards (so they cannot loop) and that stop at 255
//     octets; Message.Append writes a message back, uncompressed (the test
//     server uses it). Records of type A, AAAA, CNAME, SOA, SVCB and HTTPS
//     are decoded; others are kept as raw bytes.
//   - SVCB and HTTPS RDATA (RFC 9460 §2.2, §7, §8): priority, TargetName,
//     and the SvcParams mandatory, alpn, no-default-alpn, port, ipv4hint,
//     ech (kept as bytes, unused), ipv6hint, and unknown keys kept as is.
//     Keys out of order or a value of the wrong format make the record
//     malformed, which rejects its whole RRset (§2.2); a record whose
//     params disagree (§2.4.3) or whose mandatory keys are not understood
//     (§8) is skipped alone.
//   - Resolver: asks the servers of Resolver.Servers or /etc/resolv.conf
//     over UDP from a fresh socket per query, checks that the reply's ID
//     and question match (anything else is ignored, RFC 5452), asks again
//     over TCP when the reply is truncated, moves to the next server on
//     SERVFAIL, REFUSED or a network error, follows CNAMEs, and caches
//     answers for their TTL (negative ones for the SOA's minimum, RFC 2308)
//     in a bounded LRU cache read through an injectable clock. Concurrent
//     lookups of one name and type share one query.
//   - LookupHTTPS: SVCB resolution for https://host:port (RFC 9460 §3,
//     §9.1), AliasMode chains followed with loop detection and a bound,
//     ServiceMode records sorted by priority. LookupIP: AAAA and A in
//     parallel.
//   - dnstest: an authoritative server on loopback (UDP and TCP on one
//     port) for tests here and in h3.
//
// # Defaults
//
// Servers: the first three nameservers of /etc/resolv.conf, else
// 127.0.0.1:53. Timeout 2 s per attempt per server and 2 attempts, unless
// resolv.conf's options say otherwise. At most 8 CNAME and AliasMode links
// per lookup. 512 cached answers. A negative answer without SOA is cached
// for 30 s.
//
// # Not supported
//
// DNSSEC validation (the AD bit is not looked at), DNS over TLS, HTTPS or
// QUIC, search domains and ndots (every name is absolute), the hosts file,
// Encrypted ClientHello (the "ech" value is kept but a record that makes
// it mandatory is skipped), retrying without EDNS when a server answers
// FORMERR, and IDNA (names are taken as given, ASCII case folded).
package dns
