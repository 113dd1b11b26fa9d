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
// Limits: RFC 9651's Date and Display String items, unknown to RFC 8941,
// make a value malformed.
package priority
