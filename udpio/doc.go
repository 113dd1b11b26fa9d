// Package udpio is skiff's UDP socket: every system call of the QUIC packet
// path goes through it. It is a leaf package and imports nothing of skiff.
//
// A Conn wraps a *net.UDPConn. On Linux it moves datagrams in batches:
//
//   - Receive: recvmmsg, up to MaxBatch (64) entries a call, each straight
//     into the buffer of the caller's Message. With UDP_GRO the kernel may
//     hand one entry holding many datagrams of one flow coalesced; the
//     Message then holds them all, with the segment size the kernel reports
//     (UDP_GRO control message), for the caller to parse in place
//     (Message.Datagrams): nothing is copied. An entry that could not be
//     used (a datagram longer than its buffer) comes back with N == 0 and
//     its buffer where it was. ReadBatches reads batch after batch for a
//     callback, inside one poller wait: after a batch that emptied the
//     queue it waits for readiness rather than calling recvmmsg to be told
//     EAGAIN, as a new ReadBatch must.
//   - Send: a Message with SegmentSize set is a run of equal-size datagrams
//     (the last may be shorter) to one destination; it goes as one sendmsg
//     with a UDP_SEGMENT control message (GSO), cut in entries of at most 64
//     segments and 65,507 bytes. Batches to several destinations or of mixed
//     sizes go in one sendmmsg. If the kernel refuses GSO for a destination
//     (EIO or EINVAL) the datagrams are resent one per entry, nothing is
//     lost, and the destination is remembered; after 256 such destinations
//     GSO is off for the socket.
//   - ECN (RFC 3168 §5, RFC 9000 §13.4): IP_RECVTOS / IPV6_RECVTCLASS give
//     each received datagram's mark; an IP_TOS or IPV6_TCLASS control
//     message sets it per send.
//   - Packet info: on a socket bound to a wildcard address, IP_PKTINFO /
//     IPV6_RECVPKTINFO give the local address each datagram was sent to, and
//     a send can choose its source address the same way, so that a server
//     answers from the address the client used (RFC 9000 §9).
//   - Don't fragment: IP_MTU_DISCOVER / IPV6_MTU_DISCOVER set to PROBE. QUIC
//     datagrams are never fragmented (RFC 9000 §14) and path MTU probes
//     (RFC 8899, RFC 9000 §14.3) fail with EMSGSIZE when larger than the
//     interface MTU, rather than being split.
//   - recvmmsg, sendmmsg and sendmsg go to the kernel as raw system calls:
//     the socket is non-blocking, so they never wait there (a full queue is
//     EAGAIN, and the poller waits), and the Go scheduler's system-call
//     bookkeeping, which woke its monitor thread after every idle moment
//     and handed a slow call's processor to another thread, is left out.
//   - Socket buffers: SO_RCVBUFFORCE / SO_SNDBUFFORCE where privileged,
//     SO_RCVBUF / SO_SNDBUF otherwise; Capabilities reports what was granted.
//   - IPv4, IPv6 and dual-stack sockets; IPv4-mapped addresses are reported
//     as IPv4 and mapped again on send.
//   - ICMP errors (Options.ICMPErrors): IP_RECVERR / IPV6_RECVERR queue
//     the ICMP and ICMPv6 errors about datagrams the socket sent on its
//     error queue; ReadBatch drains it (recvmsg with MSG_ERRQUEUE) and
//     returns each as a Message with ICMP set (the destination, the quoted
//     start of the datagram, the errno, type and code), so that a QUIC
//     client sees a closed port or an unreachable host at once. A send that
//     fails with the socket's pending error (left by such a message about
//     an earlier datagram) is sent again. See icmp_linux.go.
//
// Every system call is issued through the socket's syscall.RawConn, so a
// call that would block parks the goroutine in the runtime's poller, and
// read and write deadlines and Close behave as for any net.Conn. Buffers,
// message headers, socket addresses and control messages are preallocated
// or pooled, and addresses are netip.AddrPort: in steady state neither
// direction allocates (TestSteadyStateAllocs).
//
// Support is detected at run time. Options, or the environment variables
// SKIFF_DISABLE_GSO=1, SKIFF_DISABLE_GRO=1 and SKIFF_UDPIO_PORTABLE=1, turn
// offloads, or the whole batched path, off for ablation runs.
//
// Elsewhere than Linux, and on Linux when asked, the portable path moves one
// datagram per call through net.UDPConn with the same API and results, but
// no ECN, packet info, offload or per-datagram local address.
//
// Limits, not done yet:
//   - IPv6 zones are not carried: link-local peers need a socket bound to
//     their interface.
//   - The portable path does not read or set ECN and sets no DF bit.
//   - With GRO the caller provides 64 KiB buffers (GROBufferSize) for
//     every entry it offers, whether or not the kernel coalesces.
//   - No SO_TXTIME pacing, no sendmmsg to a connected socket without an
//     address; ICMP errors only on the Linux batched path; ICMP "packet too
//     big" is reported but not used for path MTU (RFC 8899 probes instead).
package udpio
