// Package netsim is the network skiff's tests run over when they need a bad
// one. This kernel has no netem, and a test of loss recovery or migration
// must be repeatable, so delay, jitter, loss, duplication, corruption, rate
// limits with a drop-tail queue, blackholes, path MTU black holes and NAT
// rebinding come from here.
//
// Two forms share one impairment model (Link):
//
//   - Network: an in-memory datagram network of Conns with netip addresses.
//     Delivery runs on the time package's timers, so inside a
//     testing/synctest bubble minutes of network time pass in milliseconds
//     of wall time and every run is the same. Rebind and RebindAddr move a
//     Conn to a new port or host as a NAT rebinding looks to its peer; a
//     link's MTU drops larger datagrams silently and a Conn's MTU refuses
//     to send them (EMSGSIZE, as a socket with DF); Tap sees every datagram
//     as it is sent and Inject sends one from a spoofed source, as an
//     attacker replaying packets would.
//   - Relay: a userspace UDP relay on loopback between a client and a real
//     server socket, for tests over real sockets (udpio, quic-go peers).
//     Rebind gives the client a new source port towards the server, as a
//     NAT rebinding does (RFC 9000 §9.3).
//
// Randomness comes from a seeded generator per link; a test names its seed.
package netsim
