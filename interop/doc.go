// Package interop is skiff's nested module for everything that needs a
// foreign QUIC implementation: quic-go as a test peer and as the benchmark
// baseline, the QUIC Interop Runner endpoint, and the side-by-side
// benchmarks of `make bench`.
//
// It is a separate module (with `replace github.com/skiffnet/skiff => ../`)
// so that the main module depends only on the standard library,
// golang.org/x/crypto and golang.org/x/sys.
//
// Today it holds a baseline test in which a quic-go client and a quic-go
// server move data over loopback. Tests of skiff's quic and h3 packages
// against quic-go, in both roles, are added here as those packages land.
package interop
