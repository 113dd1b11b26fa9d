// Package testcert gives the tests of quic and its internal packages TLS
// configurations for a client and a server that trust each other: a fresh
// certificate each time (Fresh), or one shared per test binary (Shared),
// since generating a key per test (or per fuzz iteration) would dominate
// the run time. Nothing here is for production.
package testcert
