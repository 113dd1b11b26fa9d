// Package priority parses the priority parameters of RFC 9218 (Extensible
// Prioritization Scheme for HTTP): the Priority header field value (§5)
// and the Priority Field Value of a PRIORITY_UPDATE frame (§7), both a
// Structured Fields Dictionary (RFC 8941 §3.2).
//
// Only urgency (u, an Integer 0 to 7, default 3) and incremental (i, a
// Boolean, default false) are known (§4.1, §4.2). The parser is strict
// about the Dictionary syntax (RFC 8941 §4.2.2: a malformed value is
// ignored as a whole) and lenient about its members (RFC 9218 §4: unknown
// keys, out-of-range values and values of another type are ignored). It
// does not allocate; it works on strings and byte slices alike.
//
// It also takes the two item types RFC 9651 (which obsoletes RFC 8941)
// adds, Date (§4.2.9) and Display String (§4.2.10, its percent-encoded
// octets checked to be UTF-8), so that a peer following the newer RFC is
// not refused: h3's server treats a malformed PRIORITY_UPDATE as a
// connection error.
package priority
