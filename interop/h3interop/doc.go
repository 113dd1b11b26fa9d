// Package h3interop tests skiff's HTTP/3 (package h3) against quic-go's
// http3 over real loopback UDP in both directions — skiff client with
// quic-go server, quic-go client with skiff server — with every body
// hashed, and benchmarks requests per second of both stacks side by side.
package h3interop
