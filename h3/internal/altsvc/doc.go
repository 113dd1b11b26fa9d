// Package altsvc parses and formats the Alt-Svc HTTP header field (RFC
// 7838 §3), through which an origin tells a client that it is also served
// over another protocol, host or port — for skiff, HTTP/3 (RFC 9114 §3.1.1,
// ALPN "h3").
//
// Parse turns a field value into entries: the protocol-id percent-decoded
// into the ALPN name, the alt-authority (a quoted-string holding an
// optional host and a port) split into host and port, the "ma" parameter
// (max age, 24 hours by default, §3.1) and "persist" (§3.1); unknown
// parameters are ignored as §3 requires. The value "clear" invalidates all
// alternatives of the origin, even those listed beside it in the same
// response (§3). H3 keeps the entries a skiff client can use, and
// Entry.Addr gives the address to dial for one. AppendEntry
// and Format write the canonical form (§3: token characters other than "%"
// not encoded, uppercase hex).
//
// The parser is strict: a value that does not follow the grammar is
// rejected whole (the client then ignores the field), never partly used. It
// allocates only for the entries it returns and never panics.
//
// Not here: the ALTSVC frame of HTTP/2 (§4), which skiff does not read at
// all (net/http drops it); the Alt-Used request field (§5), which h3's
// client sends (client_stream.go), caching, and the rules on when an
// alternative may be used (§2, §9) belong to the h3 client.
package altsvc
