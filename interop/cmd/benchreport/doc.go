// Command benchreport prints skiff's side-by-side benchmark report: bulk
// throughput and CPU per byte, handshake rates, request rate and memory per
// idle connection for every transport of package perf (skiff, once its
// adapter exists, then quic-go and crypto/tls over TCP), as a Markdown
// table with ratios to the first column.
//
// It starts its own server side as a second process (itself, with -peer),
// so that each side's CPU time is measured separately. Sizes come from the
// SKIFF_BENCH_* environment variables (see bench.Config.FromEnv).
//
// Usage (inside the interop module):
//
//	go run ./cmd/benchreport                       # the full report on loopback
//	go run ./cmd/benchreport -bulk -host 198.18.1.2 -peer-netns NS   # see bench/vethbench.sh
package main
