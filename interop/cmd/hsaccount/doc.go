// Command hsaccount accounts for what one handshake costs, on each side,
// for each transport of package perf (skiff, quic-go) and for "udp", the
// same datagrams with no QUIC at all (udp.go): user and system CPU,
// context switches, page faults, goroutines started and scheduled, GC
// cycles, bytes and objects allocated, and the datagrams and bytes the
// network namespace saw. It is the accounting behind issue #14's handshake
// targets (bench's BenchmarkHandshake and BenchmarkHandshakeFloor give the
// floor they are measured against).
//
// The client side runs in this process, the server side in a second one
// (itself with -peer), as interop/cmd/benchreport does. Each figure is the
// difference of the two processes' counters across -n handshakes (parallel
// at a time, each connection closed as soon as Dial returns, as
// benchreport's handshake rows), divided by -n; the counters are read
// again 300 ms after the last close, so that the work a close leaves
// behind (the server's draining, the drivers' ends) counts too. The GC
// CPU figure is the runtime's estimate (runtime/metrics), the time its
// processors spent on GC: on a loaded machine it counts time the thread
// waited for a CPU, so a profile's share is the better guide.
//
// The datagram and byte counts are the kernel's (/proc/net/snmp Udp and
// /proc/net/netstat IpExt) of the network namespace each process runs in.
// In one fresh namespace they are both directions together:
//
//	ip netns add hsa && ip netns exec hsa ip link set lo up
//	ip netns exec hsa go run ./cmd/hsaccount -n 2000
//	ip netns exec hsa go run ./cmd/hsaccount -n 2000 -parallel 32
//
// Each direction on its own: the two sides in two namespaces joined by a
// veth pair whose GSO is off (gso_max_segs 1), so that the receiver's
// InDatagrams counts every datagram the sender sent:
//
//	ip netns add hsc && ip netns add hss
//	ip link add hsc0 netns hsc type veth peer name hss0 netns hss
//	ip -n hsc addr add 198.18.77.1/24 dev hsc0 && ip -n hss addr add 198.18.77.2/24 dev hss0
//	for n in hsc hss; do ip -n $n link set lo up; done
//	ip -n hsc link set hsc0 up gso_max_segs 1 && ip -n hss link set hss0 up gso_max_segs 1
//	ip netns exec hsc go run ./cmd/hsaccount -n 1000 -host 198.18.77.2 -peer-netns hss
//
// Where the CPU goes: -cpuprofile prefix profiles both sides (one
// transport at a time, so that each profile holds one):
//
//	ip netns exec hsa go run ./cmd/hsaccount -transports quic-go -n 3000 -parallel 32 -cpuprofile /tmp/qg
//	go tool pprof -top /tmp/qg.server.pprof
//
// System calls by kind: count the syscall tracepoints of both processes
// and of the server alone, at two sizes, and subtract (the difference
// leaves out each process's start; the client's is the first count minus
// the server's):
//
//	go build -o /tmp/hsaccount ./cmd/hsaccount
//	for n in 200 1200; do ip netns exec hsa perf stat -e 'syscalls:sys_enter_*' -x, -o /tmp/all.$n \
//	    /tmp/hsaccount -transports skiff -n $n -peer-wrap "perf stat -e syscalls:sys_enter_* -x, -o /tmp/srv.$n"; done
package main
