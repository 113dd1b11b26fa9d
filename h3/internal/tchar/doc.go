// Package tchar is the token character class of HTTP (RFC 9110 §5.6.2),
// shared by the parsers of package h3: field names (headers), Alt-Svc
// values (altsvc) and Priority values (priority). A table: one load
// per character, no allocation.
package tchar
