package runner

import (
	"time"

	"github.com/skiffnet/skiff/interop/relay"
)

// Case is one of the interop runner's tests: what each endpoint is told
// (TESTCASE), the files, the network, the time allowed, and what is
// checked beyond the basics (the files arrive byte-identical, nothing
// extra).
type Case struct {
	Name string
	// Client and Server are the TESTCASE values the endpoints see.
	Client, Server string
	// Files are the sizes of the files the client fetches.
	Files []int
	// Network is the relay's network.
	Network relay.Network
	Timeout time.Duration
	// ChainLen is the server's certificate chain length (1 when zero).
	ChainLen int
	IPv6     bool
	// Check inspects the run's trace; nil when the basics are all.
	Check func(*Run) error
	// Measure makes the case a measurement: it reports goodput.
	Measure bool
	// CrossTraffic runs a TCP flow through the bottleneck alongside
	// (namespaces only: the bottleneck is then the kernel's tbf, shared
	// by both flows).
	CrossTraffic bool
}

// defaultNetwork is the simulator's default: 10 Mbit/s, 15 ms each way
// (a 30 ms RTT), 25-packet queue.
func defaultNetwork() relay.Network {
	return relay.Network{Delay: 15 * time.Millisecond, Rate: 10_000_000, Queue: 25, Seed: 1}
}

func withNetwork(f func(*relay.Network)) relay.Network {
	n := defaultNetwork()
	f(&n)
	return n
}

func repeat(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}

const (
	kB = 1000
	MB = 1000 * 1000
)

// Cases are the runner's 22 tests and 2 measurements, in the runner's order.
func Cases() []Case {
	def := defaultNetwork()
	return []Case{
		{Name: "handshake", Client: "handshake", Server: "handshake", Files: []int{1 * kB}, Network: def,
			Check: all(handshakes(1), noRetry)},
		{Name: "transfer", Client: "transfer", Server: "transfer", Files: []int{2 * MB, 3 * MB, 5 * MB}, Network: def,
			Check: handshakes(1)},
		{Name: "longrtt", Client: "handshake", Server: "handshake", Files: []int{1 * kB},
			Network: withNetwork(func(n *relay.Network) { n.Delay = 750 * time.Millisecond }),
			Check:   all(handshakes(1), clientHelloRetransmitted)},
		{Name: "chacha20", Client: "chacha20", Server: "chacha20", Files: []int{3 * MB}, Network: def,
			Check: all(handshakes(1), chachaOnly)},
		{Name: "multiplexing", Client: "transfer", Server: "transfer", Files: repeat(1999, 32), Network: def,
			Check: all(handshakes(1), streamLimit(1000))},
		{Name: "retry", Client: "retry", Server: "retry", Files: []int{10 * kB}, Network: def,
			Check: all(handshakes(1), retried)},
		{Name: "resumption", Client: "resumption", Server: "resumption", Files: []int{5 * kB, 10 * kB}, Network: def,
			Check: all(handshakes(2), resumed)},
		{Name: "zerortt", Client: "zerortt", Server: "zerortt", Files: repeat(40, 32), Network: def,
			Check: all(handshakes(2), zeroRTT)},
		{Name: "http3", Client: "http3", Server: "http3", Files: []int{5 * kB, 10 * kB, 500 * kB}, Network: def,
			Check: handshakes(1)},
		{Name: "blackhole", Client: "transfer", Server: "transfer", Files: []int{10 * MB},
			Network: withNetwork(func(n *relay.Network) { n.BlackholeOn, n.BlackholeOff = 5*time.Second, 2*time.Second }),
			Check:   handshakes(1)},
		{Name: "keyupdate", Client: "keyupdate", Server: "transfer", Files: []int{3 * MB}, Network: def,
			Check: all(handshakes(1), keyUpdated)},
		{Name: "ecn", Client: "ecn", Server: "ecn", Files: []int{100 * kB}, Network: def,
			Check: all(handshakes(1), ecnMarked)},
		{Name: "amplificationlimit", Client: "transfer", Server: "transfer", Files: []int{5 * kB}, ChainLen: 9,
			// The runner's droplist: the ClientHello passes, the
			// client's next datagrams do not, so the server must wait
			// at its limit.
			Network: withNetwork(func(n *relay.Network) { n.Drops[relay.ToServer] = []int{2, 3, 4, 5, 6, 7} }),
			Check:   all(handshakes(1), amplificationLimit(7500))},
		{Name: "handshakeloss", Client: "multiconnect", Server: "multiconnect", Files: repeat(50, 1*kB),
			Network: withNetwork(func(n *relay.Network) { n.Loss, n.MaxBurst = [2]float64{0.3, 0.3}, 3 }),
			Timeout: 300 * time.Second, Check: handshakes(50)},
		{Name: "transferloss", Client: "transfer", Server: "transfer", Files: []int{2 * MB},
			Network: withNetwork(func(n *relay.Network) { n.Loss, n.MaxBurst = [2]float64{0.02, 0.02}, 3 }),
			Check:   handshakes(1)},
		{Name: "handshakecorruption", Client: "multiconnect", Server: "multiconnect", Files: repeat(50, 1*kB),
			Network: withNetwork(func(n *relay.Network) { n.Corrupt = [2]float64{0.3, 0.3} }),
			Timeout: 300 * time.Second, Check: handshakes(50)},
		{Name: "transfercorruption", Client: "transfer", Server: "transfer", Files: []int{2 * MB},
			Network: withNetwork(func(n *relay.Network) { n.Corrupt = [2]float64{0.02, 0.02} }),
			Check:   handshakes(1)},
		{Name: "ipv6", Client: "transfer", Server: "transfer", Files: []int{5 * kB, 10 * kB}, Network: def, IPv6: true,
			Check: all(handshakes(1), overIPv6)},
		{Name: "v2", Client: "v2", Server: "v2", Files: []int{1 * kB}, Network: def,
			Check: all(handshakes(1), version2)},
		{Name: "rebind-port", Client: "transfer", Server: "transfer", Files: []int{10 * MB},
			Network: withNetwork(func(n *relay.Network) { n.RebindFirst, n.RebindEvery = time.Second, 5*time.Second }),
			Check:   all(handshakes(1), pathsValidated(false))},
		{Name: "rebind-addr", Client: "transfer", Server: "transfer", Files: []int{10 * MB},
			Network: withNetwork(func(n *relay.Network) {
				n.RebindFirst, n.RebindEvery, n.RebindAddr = time.Second, 5*time.Second, true
			}),
			Check: all(handshakes(1), pathsValidated(true))},
		{Name: "connectionmigration", Client: "transfer", Server: "connectionmigration", Files: []int{2 * MB}, Network: def,
			Check: all(handshakes(1), migrated)},
		{Name: "goodput", Client: "transfer", Server: "transfer", Files: []int{10 * MB}, Network: def,
			Check: handshakes(1), Measure: true},
		// 10 MB rather than the runner's 25 MB: the QUIC flow gets a few
		// Mbit/s beside TCP, and the whole matrix must fit 20 minutes.
		{Name: "crosstraffic", Client: "transfer", Server: "transfer", Files: []int{10 * MB}, Network: def,
			Timeout: 180 * time.Second, Check: handshakes(1), Measure: true, CrossTraffic: true},
	}
}
