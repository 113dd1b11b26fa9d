// Package relay is the local runner's network simulator: a userspace UDP
// relay between clients and a server that reproduces the QUIC Interop
// Runner's ns-3 scenarios on machines without Docker or netem.
//
// Clients send to the relay's front address; for each client address the
// relay holds a NAT mapping (a socket of its own) toward the server, so the
// server sees the relay's address. Each direction is a link (link.go, a
// sans-I/O model fed arrival times, tested on synthetic flows): a one-way
// delay, a rate with a drop-tail queue counted in datagrams, random loss
// with a cap on consecutive losses, corruption of one byte among the first
// 50 of the UDP payload, a list of datagrams to drop by index (the
// droplist scenario), and a periodic blackhole. The NAT rebinds every so
// often, to a new port and optionally a new address (Config.Outbound);
// what the server sends to a forgotten mapping is dropped. The IP ECN
// field is read on arrival (IP_RECVTOS, IPV6_RECVTCLASS) and set again on
// delivery.
//
// Every datagram is recorded (Capture) with its times, fate, the client's
// address before and after the NAT, its ECN mark and its payload as sent,
// for package qtrace and the runner's checks.
//
// Config.Extra adds front addresses, each forwarding to another server
// address: a server's preferred address (RFC 9000 §9.6), announced as the
// relay's, so that a client moving there still goes through the relay and
// its capture. A client keeps one NAT mapping whichever server address it
// sends to.
//
// Limits: the queue counts datagrams, not bytes; delivery timers have the
// Go runtime's resolution (well under a millisecond); no reordering or
// duplication (the runner's scenarios have none).
package relay
