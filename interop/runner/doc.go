// Package runner runs the QUIC Interop Runner's test cases locally, for
// `make interop` (cmd/interop): each case with a server and a client
// endpoint binary, a relay reproducing the case's network, and checks like
// the runner's on the decrypted capture.
//
// Topology: three network namespaces (client, sim, server) joined by veth
// pairs with addresses from 198.18.0.0/15 and 2001:2::/48, the relay's
// sockets opened inside the sim namespace from this process (Topology.Do);
// or, without namespaces, everything on loopback. The client sends to the
// relay, which forwards to the server through its NAT mappings.
//
// A run (RunCase): certificates (a 9-certificate chain with a padded leaf
// for amplificationlimit), random files, the server started and probed
// with the simulator's readiness packet until it answers with Version
// Negotiation, the relay, the client; then the files compared by hash, the
// key logs of both sides merged, the capture analyzed (package qtrace),
// and the checks run (checks.go): handshake count, version 1 only outside
// v2, Retry and its token and unbroken packet numbers, resumption without
// a Certificate, 0-RTT sizes, key phases, ECN marks and counts,
// amplification ≤ 3× before address validation, PATH_CHALLENGE on each
// new path, ClientHello retransmission under long RTT, stream limits,
// ChaCha20 only, IPv6. An endpoint that exits 127 makes the run
// "unsupported". Each run's directory keeps its logs, key logs, qlog and a
// one-line-per-packet trace.txt.
//
// Measurements: goodput is 8 × bytes / (last − first server 1-RTT packet)
// at the relay. Crosstraffic (namespaces only) moves the bottleneck into
// the kernel (tbf at 10 Mbit/s on the sim namespace's links, a 25-packet
// queue) so that a TCP CUBIC flow routed through the sim namespace shares
// it with the QUIC transfer; that TCP flow bypasses the relay and so its
// 15 ms delay.
//
// Differences from the real runner: the relay replaces ns-3 (see package
// relay); goodput runs once by default (-goodput-runs 5 as the runner).
// For connectionmigration the relay gets a second front (port 4434 in
// namespaces) forwarding to the server's preferred address behind it,
// which the server announces (PREFERRED_ADDRESS, PREFERRED_LISTEN); the
// check wants the client's PATH_CHALLENGE there answered and stream data
// from there.
package runner
