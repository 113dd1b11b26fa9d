// Package bench is the side-by-side benchmark harness of `make bench`: it
// measures skiff (once its adapter exists in package perf), quic-go and
// crypto/tls over TCP with the QUIC performance protocol
// (draft-banks-quic-performance-00) and prints one Markdown table with
// ratios to the first column.
//
// Figures, each measured for every transport in the same run, one figure
// after another (draft §3 names the scenarios):
//
//   - bulk download and upload on one connection (§3.1): Gbit/s, CPU
//     seconds per GB on the client and on the server, and client heap
//     allocations per packet;
//   - handshakes per second (§3.3), sequential and with many clients;
//   - requests per second (§3.2), 1 KB up and 4 KB down, 100 in flight;
//   - heap and stack bytes per idle connection with 1000 open (§3.5 is a
//     TODO in the draft; this is our definition).
//
// The server side is a separate process, the peer ([RunPeer]), so that the
// client's CPU time (getrusage RUSAGE_SELF) and the server's (asked over
// the peer's stdin/stdout command channel) are separate. The peer is the
// test binary itself (TestMain) or cmd/benchreport with -peer; for the veth
// run (vethbench.sh) it runs in another network namespace.
//
// Limits: numbers from a shared machine are noisy and each figure is one
// run, not a distribution; allocation counts cover the whole client
// process; TCP has no packet counts, so its allocations per packet are an
// estimate (marked ~). Loopback has a 64 KiB MTU, which favours TCP (large
// segments) over QUIC (1452-byte packets unless GSO batches them).
package bench
