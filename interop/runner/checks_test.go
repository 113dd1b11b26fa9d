package runner

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/interop/qtrace"
	"github.com/skiffnet/skiff/interop/relay"
	"github.com/skiffnet/skiff/tls13"
)

// Each check is run on a synthetic trace of a well-behaved connection,
// where it must pass, and on the same trace broken the way the check
// exists to catch, where it must fail: so that ✓ in the matrix means
// something. qtrace.Builder protects the packets as an endpoint would.

const (
	up   = relay.ToServer
	down = relay.ToClient
)

// flow describes the synthetic connection.
type flow struct {
	hello      qtrace.HelloOptions
	suite      uint16 // the cipher suite the server chooses; the builder's default when 0
	psk        bool   // the server accepts the ticket
	certSize   int
	streams    uint64 // the server's initial_max_streams_bidi
	retry      []byte // the server sends a Retry with this token first
	restartPN  bool   // the client restarts its Initial packet numbers after the Retry
	ecnCounts  bool   // ACKs carry ECN counts
	ecn        uint8  // the mark on 1-RTT datagrams
	keyUpdate  [2]bool
	zeroRTT    int // bytes of 0-RTT stream data
	oneRTTSize int // bytes of client 1-RTT stream data
}

func wellBehaved() flow {
	return flow{certSize: 800, streams: 100, ecnCounts: true, ecn: relay.ECNECT0, keyUpdate: [2]bool{true, true}}
}

// connect adds one connection's packets to b.
func connect(b *qtrace.Builder, f flow) *qtrace.ConnBuilder {
	c := b.Conn()
	if f.suite != 0 {
		c.Suite = f.suite
	}
	hello := c.ClientHello(f.hello)
	if f.retry != nil {
		b.Send(up, 0, c.Initial(up, nil, hello, qtrace.Padding(1100)))
		b.Send(down, 0, c.Retry(f.retry))
		if f.restartPN {
			c.SetPN(0, up, 0)
		}
		retryHello(b, c, f)
	} else {
		b.Send(up, 0, c.Initial(up, nil, hello, qtrace.Padding(1100)))
	}
	if f.zeroRTT > 0 {
		b.Send(up, 0, c.ZeroRTT(qtrace.Stream(0, f.zeroRTT)))
	}
	params := map[uint64][]byte{0x08: appendVarint(f.streams)}
	b.Send(down, 0, c.Initial(down, nil, qtrace.Ack(0, nil), c.ServerHello(f.psk)),
		c.Handshake(down, c.ServerFlight(params, f.certSize)))
	b.Send(up, 0, c.Handshake(up, qtrace.Ack(0, nil), c.Crypto(1, up, 20, make([]byte, 32))))
	var counts *qtrace.ECNCounts
	if f.ecnCounts {
		counts = &qtrace.ECNCounts{ECT0: 1}
	}
	b.Send(down, f.ecn, c.OneRTT(down, qtrace.HandshakeDone(), qtrace.Stream(0, 1000)))
	b.Send(up, f.ecn, c.OneRTT(up, qtrace.Ack(0, counts), qtrace.Stream(0, f.oneRTTSize)))
	for d, update := range f.keyUpdate {
		if update {
			c.Gen[d] = 1
		}
	}
	b.Send(up, f.ecn, c.OneRTT(up, qtrace.Ack(1, counts)))
	b.Send(down, f.ecn, c.OneRTT(down, qtrace.Ack(1, counts), qtrace.Stream(0, 1000)))
	return c
}

// retryHello resends the ClientHello after a Retry, with its token.
func retryHello(b *qtrace.Builder, c *qtrace.ConnBuilder, f flow) {
	c.ResetCrypto(0, up)
	b.Send(up, 0, c.Initial(up, f.retry, c.ClientHello(f.hello), qtrace.Padding(1000)))
}

func appendVarint(v uint64) []byte {
	if v < 64 {
		return []byte{byte(v)}
	}
	return []byte{0x40 | byte(v>>8), byte(v)}
}

func run(b *qtrace.Builder, c *Case) *Run {
	return &Run{Case: c, Trace: qtrace.Analyze(b.Capture, b.KeyLog)}
}

// expect runs check on the trace of each flow: good must pass, bad must
// fail with an error containing want.
func expect(t *testing.T, check func(*Run) error, good flow, bad flow, want string, conns int) {
	t.Helper()
	for i, f := range []flow{good, bad} {
		b := qtrace.NewBuilder()
		for range conns {
			connect(b, f)
		}
		err := check(run(b, &Case{}))
		switch {
		case i == 0 && err != nil:
			t.Errorf("well-behaved trace fails: %v", err)
		case i == 1 && err == nil:
			t.Errorf("broken trace passes, want %q", want)
		case i == 1 && !strings.Contains(err.Error(), want):
			t.Errorf("broken trace: %v, want %q", err, want)
		}
	}
}

func TestCheckHandshakes(t *testing.T) {
	b := qtrace.NewBuilder()
	connect(b, wellBehaved())
	if err := handshakes(1)(run(b, &Case{})); err != nil {
		t.Errorf("one connection: %v", err)
	}
	connect(b, wellBehaved()) // an extra handshake
	if err := handshakes(1)(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "2 handshakes") {
		t.Errorf("two connections: %v", err)
	}
}

func TestCheckRetry(t *testing.T) {
	good := wellBehaved()
	good.retry = []byte("a token")
	bad := good
	bad.restartPN = true
	expect(t, retried, good, bad, "restarted its packet numbers", 1)
	expect(t, retried, good, wellBehaved(), "no Retry", 1)
	expect(t, noRetry, wellBehaved(), good, "sent a Retry", 1)
}

func TestCheckRetryToken(t *testing.T) {
	// The client comes back after the Retry with another token.
	b := qtrace.NewBuilder()
	c := b.Conn()
	b.Send(up, 0, c.Initial(up, nil, c.ClientHello(qtrace.HelloOptions{}), qtrace.Padding(1100)))
	b.Send(down, 0, c.Retry([]byte("the token")))
	c.ResetCrypto(0, up)
	b.Send(up, 0, c.Initial(up, []byte("another"), c.ClientHello(qtrace.HelloOptions{}), qtrace.Padding(1000)))
	if err := retried(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "carries token") {
		t.Errorf("got %v", err)
	}
}

func TestCheckECN(t *testing.T) {
	bad := wellBehaved()
	bad.ecnCounts = false
	expect(t, ecnMarked, wellBehaved(), bad, "no ACK with ECN counts", 1)
	bad = wellBehaved()
	bad.ecn = relay.ECNNotECT
	expect(t, ecnMarked, wellBehaved(), bad, "marks no datagram", 1)
	bad.ecn = relay.ECNCE
	expect(t, ecnMarked, wellBehaved(), bad, "marked CE", 1)
}

func TestCheckResumption(t *testing.T) {
	// Two connections: the second resumed, without a Certificate …
	good := func(b *qtrace.Builder, cert int) {
		connect(b, wellBehaved())
		f := wellBehaved()
		f.hello.PSK, f.psk, f.certSize = true, true, cert
		connect(b, f)
	}
	b := qtrace.NewBuilder()
	good(b, 0)
	if err := resumed(run(b, &Case{})); err != nil {
		t.Errorf("resumed: %v", err)
	}
	// … or with one, which the check must catch.
	b = qtrace.NewBuilder()
	good(b, 800)
	if err := resumed(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "Certificate") {
		t.Errorf("resumed with a Certificate: %v", err)
	}
	// Without the key log the check cannot tell, and says so.
	b = qtrace.NewBuilder()
	good(b, 0)
	tr := run(b, &Case{})
	tr.Trace = qtrace.Analyze(b.Capture, qtrace.KeyLog{})
	if err := resumed(tr); err == nil || !strings.Contains(err.Error(), "key log") {
		t.Errorf("without key log: %v", err)
	}
}

func TestCheckZeroRTT(t *testing.T) {
	good := func(zero, one int) *Run {
		b := qtrace.NewBuilder()
		connect(b, wellBehaved())
		f := wellBehaved()
		f.hello.PSK, f.hello.EarlyData, f.psk, f.certSize, f.zeroRTT, f.oneRTTSize = true, true, true, 0, zero, one
		connect(b, f)
		return run(b, &Case{})
	}
	if err := zeroRTT(good(1200, 0)); err != nil {
		t.Errorf("0-RTT: %v", err)
	}
	if err := zeroRTT(good(0, 0)); err == nil || !strings.Contains(err.Error(), "no 0-RTT") {
		t.Errorf("no 0-RTT: %v", err)
	}
	if err := zeroRTT(good(1200, 6000)); err == nil || !strings.Contains(err.Error(), "more than 5000") {
		t.Errorf("requests in 1-RTT: %v", err)
	}
}

func TestCheckKeyUpdate(t *testing.T) {
	bad := wellBehaved()
	bad.keyUpdate[up] = false
	expect(t, keyUpdated, wellBehaved(), bad, "client sent no packet in key phase 1", 1)
	bad = wellBehaved()
	bad.keyUpdate[down] = false
	expect(t, keyUpdated, wellBehaved(), bad, "server sent no packet in key phase 1", 1)
	// An update after the server has sent more than a megabyte is late.
	b := qtrace.NewBuilder()
	f := wellBehaved()
	f.keyUpdate = [2]bool{false, true}
	c := connect(b, f)
	for range 1000 {
		b.Send(down, 0, c.OneRTT(down, qtrace.Stream(0, 1100)))
	}
	c.Gen[up] = 1
	b.Send(up, 0, c.OneRTT(up, qtrace.Ack(5, nil)))
	if err := keyUpdated(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "not within the first MB") {
		t.Errorf("late update: %v", err)
	}
}

func TestCheckChaCha20(t *testing.T) {
	good := wellBehaved()
	good.suite = tls13.TLS_CHACHA20_POLY1305_SHA256
	good.hello.Suites = []uint16{tls13.TLS_CHACHA20_POLY1305_SHA256}
	bad := good
	bad.hello.Suites = []uint16{tls13.TLS_CHACHA20_POLY1305_SHA256, tls13.TLS_AES_128_GCM_SHA256}
	expect(t, chachaOnly, good, bad, "offers cipher suites", 1)
	bad = good
	bad.suite = tls13.TLS_AES_128_GCM_SHA256
	expect(t, chachaOnly, good, bad, "did not choose", 1)
}

func TestCheckStreamLimit(t *testing.T) {
	bad := wellBehaved()
	bad.streams = 2000
	expect(t, streamLimit(1000), wellBehaved(), bad, "initial_max_streams_bidi is 2000", 1)
}

func TestCheckClientHelloRetransmitted(t *testing.T) {
	b := qtrace.NewBuilder()
	connect(b, wellBehaved())
	if err := clientHelloRetransmitted(run(b, &Case{})); err == nil {
		t.Error("one ClientHello passes")
	}
	b = qtrace.NewBuilder()
	f := wellBehaved()
	f.retry = []byte("t") // a second ClientHello from offset 0
	connect(b, f)
	if err := clientHelloRetransmitted(run(b, &Case{})); err != nil {
		t.Errorf("two ClientHellos: %v", err)
	}
}

func TestCheckVersionOne(t *testing.T) {
	b := qtrace.NewBuilder()
	c := b.Conn()
	c.Version = qtrace.Version2
	b.Send(up, 0, c.Initial(up, nil, c.ClientHello(qtrace.HelloOptions{}), qtrace.Padding(1100)))
	b.Send(down, 0, c.Initial(down, nil, c.ServerHello(false)))
	if err := versionOne(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "0x6b3343cf") {
		t.Errorf("version 2 outside the v2 test: %v", err)
	}
}

// amplificationTrace: the client's first Initial reaches the server
// (a second one is dropped on the way), the server sends Initial
// datagrams up to extra bytes beyond three times what it received, then
// the client's Handshake packet validates its address and the server
// sends freely.
func amplificationTrace(extra int) (r *Run, sent, received int) {
	b := qtrace.NewBuilder()
	c := b.Conn()
	b.Send(up, 0, c.Initial(up, nil, c.ClientHello(qtrace.HelloOptions{}), qtrace.Padding(1100)))
	received = len(b.Capture[0].Payload)
	b.Send(up, 0, c.Initial(up, nil, qtrace.Ping(), qtrace.Padding(1150)))
	b.Capture[1].Fate.Drop = relay.DropList // never reached the server
	first := c.Initial(down, nil, c.ServerHello(false))
	b.Send(down, 0, first)
	sent = len(first)
	target := 3*received + extra
	for sent < target {
		// An Initial with n bytes of padding (50 to 1100) is n+47
		// bytes long; leave enough for a last one.
		r := target - sent
		n := r - 47
		if n > 1100 {
			n = 1100
			if r-(n+47) < 97 {
				n = r - 47 - 100
			}
		}
		if n < 50 {
			break
		}
		p := c.Initial(down, nil, qtrace.Ping(), qtrace.Padding(n))
		b.Send(down, 0, p)
		sent += len(p)
	}
	b.Send(up, 0, c.Handshake(up, qtrace.Ping()))
	for range 10 {
		b.Send(down, 0, c.Handshake(down, qtrace.Ping(), qtrace.Padding(1100)))
	}
	return run(b, &Case{}), sent, received
}

func TestCheckAmplification(t *testing.T) {
	r, sent, received := amplificationTrace(0)
	if sent != 3*received {
		t.Fatalf("the trace sends %d bytes for %d received, not exactly 3×", sent, received)
	}
	if err := amplificationLimit(0)(r); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	if r, _, _ = amplificationTrace(100); amplificationLimit(0)(r) == nil {
		t.Error("100 bytes over the limit passes")
	}
	if err := amplificationLimit(0)(r); err == nil || !strings.Contains(err.Error(), "over 3×") {
		t.Errorf("100 bytes over the limit: %v", err)
	}
	// The test needs a server Handshake flight that the limit bites.
	b := qtrace.NewBuilder()
	connect(b, wellBehaved())
	if err := amplificationLimit(7500)(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "at least 7500") {
		t.Errorf("small certificate: %v", err)
	}
}

// rebindTrace: a connection, then the NAT moves the client to a new
// address; the server's first datagram there carries a PATH_CHALLENGE
// (or not), and the client answers it (or not).
func rebindTrace(challenge, answer bool) *Run {
	b := qtrace.NewBuilder()
	c := connect(b, wellBehaved())
	b.Path = netip.MustParseAddrPort("198.18.1.11:50000")
	b.Send(up, 0, c.OneRTT(up, qtrace.Ack(3, nil), qtrace.Stream(0, 100)))
	data := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	if challenge {
		b.Send(down, 0, c.OneRTT(down, qtrace.PathChallenge(data), qtrace.Ack(5, nil)))
	} else {
		b.Send(down, 0, c.OneRTT(down, qtrace.Ack(5, nil), qtrace.Stream(0, 1000)))
		b.Send(down, 0, c.OneRTT(down, qtrace.PathChallenge(data)))
	}
	if answer {
		b.Send(up, 0, c.OneRTT(up, qtrace.PathResponse(data)))
	}
	return run(b, &Case{})
}

func TestCheckRebinding(t *testing.T) {
	if err := pathsValidated(true)(rebindTrace(true, true)); err != nil {
		t.Errorf("validated: %v", err)
	}
	if err := pathsValidated(true)(rebindTrace(false, true)); err == nil || !strings.Contains(err.Error(), "first datagram") {
		t.Errorf("challenge late: %v", err)
	}
	if err := pathsValidated(true)(rebindTrace(true, false)); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("no answer: %v", err)
	}
	b := qtrace.NewBuilder()
	connect(b, wellBehaved())
	if err := pathsValidated(false)(run(b, &Case{})); err == nil || !strings.Contains(err.Error(), "no rebinding") {
		t.Errorf("no rebinding: %v", err)
	}
}
