// Package bench is the go test -bench suite of skiff alone, end to end over
// real loopback sockets, through the public API of quic and h3 only, so
// that it keeps compiling across changes of their insides. Every figure is
// a custom metric (testing.B.ReportMetric) that benchstat compares across
// commits; README.md, "Comparing two commits", says how.
//
// # The server process
//
// The server side of every benchmark runs in a child process: the test
// binary started again with SKIFF_BENCH_PEER=1 (peer_test.go), once per
// run. It serves four listeners on 127.0.0.1 (plain QUIC with the default
// stream limit, plain QUIC allowing 10,000 streams, plain QUIC with
// MaxDatagramSize 65527, HTTP/3) with a throwaway ECDSA P-256 certificate
// from internal/selfsigned, and answers commands on its standard input: its
// CPU time (getrusage) and heap allocation count, its live heap and
// goroutines after two garbage collections, and "settle", which waits until
// the connections of earlier benchmarks are gone. So "client" figures are
// this process and "server" figures the peer's, each measured by its own
// process. A plain QUIC stream's first byte tells the peer what to do: send
// n bytes, read to the end and report the count, or echo.
// SKIFF_BENCH_PEER_CPUPROFILE=file and SKIFF_BENCH_PEER_MEMPROFILE=file
// profile the peer for its whole life, the server side of -cpuprofile and
// of -memprofile -memprofilerate=1 (every allocation: go tool pprof
// -sample_index=alloc_objects -top).
//
// # Benchmarks and metrics
//
// BenchmarkBulk/dir=down|up/dgram=1452: one connection, one stream, the
// server sending (down) or receiving (up) b.N MiB; the time runs from the
// request to the last byte read (down) or to the server's count of what it
// read (up). Gbit/s; client-CPU-s/GB and server-CPU-s/GB, each process's
// CPU seconds per 10^9 bytes moved; client-cswitch/GB and
// server-cswitch/GB, each process's context switches (getrusage ru_nvcsw +
// ru_nivcsw, all threads) per 10^9 bytes: the wake-ups and sleeps of its
// threads, which cost more on a loaded or virtualized machine and vary
// less between runs than the time figures; client-allocs/pkt and
// server-allocs/pkt, each process's heap allocations (runtime.MemStats
// Mallocs) divided by the packets the connection sent and received
// (quic.Stats of the client end: every packet counted once); B/dgram, the
// average size of the datagrams carrying the data; acks/pkt, the packets
// the receiving end sent per packet it received (nearly all of them
// acknowledgments: how rarely a bulk receiver acknowledges). dgram=max: the
// same against a fourth listener, both ends with quic.Config.MaxDatagramSize
// 65527, so that path MTU discovery settles on the largest datagram
// loopback carries (B/dgram shows about 64.5 KB; allocs/pkt is larger
// there only because the same one-off allocations divide among 44 times
// fewer packets).
//
// BenchmarkHandshake/mode=sequential|parallel: complete 1-RTT handshakes
// (X25519MLKEM768, ECDSA P-256, certificate verified against a pool) from
// one client endpoint, one at a time or from 32 goroutines; each
// connection is closed as soon as Dial returns. handshakes/s;
// client-CPU-us/op and server-CPU-us/op per handshake; allocs/op (client)
// and server-allocs/op, and the bytes they allocate, B/op and
// server-B/op; x-floor, the CPU of both sides per handshake divided by
// the floor's CPU (BenchmarkHandshakeFloor's work, timed in
// the same process just before and just after the loop, the mean of the
// two, so that a drifting load on a shared machine moves both sides of the
// ratio alike); client-sys-us/op and server-sys-us/op, the system part
// of each side's CPU (getrusage: the kernel's sends, receives and
// loopback delivery, the runtime's thread sleeps and wake-ups, page
// faults), which the floor has none of. mode=resumed: sequential handshakes that
// resume the previous connection's session (psk_dhe_ke, no certificate),
// each connection closed once its own ticket has arrived (half a round trip
// after the handshake), same metrics.
//
// BenchmarkHandshakeFloor: what a handshake with skiff's defaults cannot
// avoid, both sides, in one goroutine: ML-KEM-768 key generation,
// encapsulation (after parsing the client's key) and decapsulation; two
// X25519 key generations and two X25519 exchanges; one ECDSA P-256
// signature and its verification over the CertificateVerify content; and
// each side's HKDF work (Initial secrets, the TLS 1.3 key schedule from the
// handshake secret to the application traffic secrets, the early secret
// without a PSK being a constant, two Finished MACs, QUIC key, IV and header
// protection key for six traffic secrets), with internal/hkdf as the
// handshake computes it. CPU-us/op. Not in it: transcript hashing, certificate parsing and chain checks,
// packet protection, and everything else a handshake does.
//
// Where a handshake's CPU goes beyond the floor (datagrams and bytes each
// way, system calls by kind, context switches, goroutines, allocations,
// GC), side by side with quic-go and with the same datagrams sent alone:
// interop/cmd/hsaccount, whose doc gives the commands.
//
// BenchmarkH3Requests/conns=1|100: HTTP/3 POSTs of 1 KiB answered with 4
// KiB, 100 in flight, over one connection (one h3.Transport) or 100 (a
// Transport each, one request in flight on each; a Transport's connection
// has its own socket). req/s; allocs/op
// (client) and server-allocs/op per request (B/op and server-B/op their
// bytes); client-CPU-us/op and
// server-CPU-us/op per request.
//
// BenchmarkIdleConns/conns=1000|10000: n connections from one client
// endpoint (one socket, so no file descriptor limit is reached; Go raises
// the soft limit at start anyway), each with one finished request (a
// stream echoing 7 bytes), then idle for two seconds (a connection trims
// what its handshake and request grew after one second of quiet).
// client-B/conn and server-B/conn: growth of each process's live heap
// (HeapAlloc after two collections) from before the connections were
// opened (and after a first burst of 128 connections, closed, grew the
// endpoints' pools), per connection;
// client-goroutines/conn and server-goroutines/conn likewise. The
// server's figures include what its application keeps per connection:
// one goroutine waiting in AcceptStream, as any server has. The time is the opening of the n
// connections and their requests, 32 at a time.
//
// BenchmarkManyStreams: one connection opens 10,000 bidirectional streams,
// writes 32 bytes on each and closes it, then reads each one's echo. The
// time covers all of it (not the handshake); client-B/stream and
// server-B/stream are each process's live heap growth per stream when all
// the streams are open and written (the server's includes its handlers'
// remains: one goroutine per stream, echoing and exiting).
//
// # Limits
//
// One run of a benchmark is one sample: run with -count 6 or more and let
// benchstat judge the spread. CPU, throughput and request rates move with
// the machine's load (a shared 2-core machine shows ±30 % between runs);
// heap and allocation figures hardly do. Allocation counts cover the whole
// process, benchmark code included (a few allocations per operation at
// most). Stats are published after each batch of datagrams, so the last
// batch of a transfer may be missing from the packet count.
package bench
