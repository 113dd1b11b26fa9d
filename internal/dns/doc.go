// Package dns is skiff's own small DNS stub resolver, written for HTTP/3
// discovery: HTTPS records (RFC 9460) that let the first request to an
// origin go over HTTP/3, and the A/AAAA lookups of their targets through the
// same configured server. The module depends on no DNS library.
//
// Work in progress: the API is settled, the implementation follows.
package dns
