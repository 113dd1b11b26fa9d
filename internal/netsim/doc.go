// Package netsim is the network skiff's tests run over when they need a bad
// one. This kernel has no netem, and a test of loss recovery or migration
// must be repeatable, so delay, jitter, loss, duplication, corruption, rate
// limits with a drop-tail queue, blackholes and NAT rebinding come from here.
//
// Two forms share one impairment model (Link):
//
//   - Network: an in-memory datagram network of Conns with netip addresses.
//     Delivery runs on the time package's timers, so inside a
//     testing/synctest bubble minutes of network time pass in milliseconds
//     of wall time and every run is the same.
//   - Relay: a userspace UDP relay on loopback between a client and a real
//     server socket, for tests over real sockets (udpio, quic-go peers).
//     Rebind gives the client a new source port towards the server, as a
//     NAT rebinding does (RFC 9000 §9.3).
//
// Randomness comes from a seeded generator per link; a test names its seed.
package netsim
