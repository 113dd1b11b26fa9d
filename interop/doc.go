// Package interop is skiff's nested module for everything that needs a
// foreign QUIC implementation: quic-go as a test peer and as the benchmark
// baseline, the QUIC Interop Runner endpoint, and the side-by-side
// benchmarks of `make bench`.
//
// It is a separate module (with `replace github.com/skiffnet/skiff => ../`)
// so that the main module depends only on the standard library,
// golang.org/x/crypto and golang.org/x/sys.
//
// This package holds a baseline test in which a quic-go client and a
// quic-go server move data over loopback. Subpackages:
//
//   - perf: the QUIC performance protocol (draft-banks-quic-performance-00)
//     over a small Conn/Stream abstraction, with adapters for skiff, quic-go
//     and crypto/tls over TCP;
//   - bench: the side-by-side harness (bulk throughput and CPU per byte,
//     handshake and request rates, memory per idle connection) and
//     vethbench.sh, its bulk part across two network namespaces;
//   - cmd/benchreport: the report as a program, for `make bench`;
//   - endpoint (with skiffep, quicgoep, cmd/skiff-endpoint,
//     cmd/quicgo-endpoint, Dockerfile, run_endpoint.sh): the QUIC Interop
//     Runner endpoint, skiff's and a quic-go one under the same contract;
//   - relay, qtrace, runner, cmd/interop: the local runner of `make
//     interop` (the network simulator as a userspace relay, decryption of
//     its capture with the key logs, the runner's checks, the matrix).
//   - quicinterop, h3interop, perfinterop: tests of skiff's quic, h3 and
//     `skiff perf` against quic-go's quic, http3 and perf peers, in both
//     roles over loopback.
package interop
