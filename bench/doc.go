// Package bench will hold the go test -bench suites that cross packages:
// the packet path end to end (parse, open, process, pack, seal) and whole
// connections over loopback. Per-package benchmarks live beside their
// packages; the side-by-side comparisons with quic-go and TCP+TLS live in the
// nested interop module.
//
// Not written yet: it needs package quic's connections.
package bench
