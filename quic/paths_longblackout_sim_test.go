package quic

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/udpio"
)

// A NAT rebinding whose new mapping stays dark from the server to the
// client for longer than the path validation timeout (3 PTOs, with the
// kInitialRtt floor about 3 s: RFC 9000 §8.2.4). The server's validation
// of the new address fails and it returns to the last validated address
// (§9.3.2), which no longer reaches the client. The client's packets keep
// coming from the new address, non-probing and with ever larger packet
// numbers: the server must follow them there again (§9.3) and validate
// the address anew once the path clears, sending there no more than three
// times what it received from it (§8.1, §9.3.1) meanwhile.

// amplificationWatch wraps the server's socket: it counts the bytes the
// server received from and sent to each peer address, and flags a
// datagram sent to an address not validated yet (the client's address of
// the handshake, or one the server's Tracer reported probing_successful
// for) past three times what arrived from there (RFC 9000 §8.1).
type amplificationWatch struct {
	packetConn
	mu         sync.Mutex
	recvd      map[netip.AddrPort]int
	sent       map[netip.AddrPort]int
	validated  map[netip.AddrPort]bool
	violations []string
	// unvalidatedSent is what went to addresses before they were
	// validated.
	unvalidatedSent int
}

func newAmplificationWatch(sock packetConn, handshake netip.AddrPort) *amplificationWatch {
	return &amplificationWatch{
		packetConn: sock,
		recvd:      map[netip.AddrPort]int{},
		sent:       map[netip.AddrPort]int{},
		validated:  map[netip.AddrPort]bool{handshake: true},
	}
}

func (w *amplificationWatch) ReadBatch(msgs []udpio.Message) (int, error) {
	n, err := w.packetConn.ReadBatch(msgs)
	w.mu.Lock()
	for _, m := range msgs[:n] {
		w.recvd[m.Addr] += m.N
	}
	w.mu.Unlock()
	return n, err
}

func (w *amplificationWatch) WriteBatch(msgs []udpio.Message) (int, error) {
	w.mu.Lock()
	for i := range msgs {
		a := msgs[i].Addr
		for d := range msgs[i].Datagrams {
			w.sent[a] += len(d)
			if w.validated[a] {
				continue
			}
			w.unvalidatedSent += len(d)
			if w.sent[a] > 3*w.recvd[a] {
				w.violations = append(w.violations, fmt.Sprintf("%v: %d bytes sent for %d received", a, w.sent[a], w.recvd[a]))
			}
		}
	}
	w.mu.Unlock()
	return w.packetConn.WriteBatch(msgs)
}

// tracer marks the addresses the server validated.
func (w *amplificationWatch) tracer(_ bool, _ []byte) *Tracer {
	return &Tracer{MigrationState: func(state string, _, remote netip.AddrPort) {
		if state == "probing_successful" {
			w.mu.Lock()
			w.validated[remote] = true
			w.mu.Unlock()
		}
	}}
}

// TestSimRebindLongBlackout: the client's address (or port) changes half
// way through a 4 MB download or upload, and the new path from the server
// to the client is dark for 4 s (past the validation timeout), 10 s and
// 20 s (the idle timeout is 30 s); in download-both the path from the
// client is dark too. The transfer completes with the
// bytes intact, and the server never sends an address not validated yet
// more than three times what it received from there. The data resumes at
// most the blackout's length and a second after the path clears: what
// validates the path then is the server's next challenge there, or the
// client's next probe (each brings one at once); both come at intervals
// that double from about the start of the blackout (the server's within
// the allowance the client's datagrams give it, RFC 9000 §9.4; the
// client's PTO, RFC 9002 §6.2.1), so the next one after the blackout
// comes at most about as long after it as the blackout lasted, and then a
// round trip validates the path. Before the server went on validating the
// address it returned from, a 20 s blackout of a download ended at the
// idle timeout, the server sending to the client's old address. In
// download-both for 20 s the server hears nothing of the client until
// the path clears, and the client's PTO probes back off (at about 8.8 and
// 17.6 s into the silence): the next would come after the idle timeout.
// What crosses first is the client's last probe before the idle timeout
// (conn/lastprobe.go), about 26.3 s into it; without it both ends timed
// out.
func TestSimRebindLongBlackout(t *testing.T) {
	for _, dir := range []string{"download", "upload", "download-both"} {
		for _, addr := range []bool{false, true} {
			for _, blackout := range []time.Duration{4 * time.Second, 10 * time.Second, 20 * time.Second} {
				kind := "port"
				if addr {
					kind = "address"
				}
				t.Run(fmt.Sprintf("%s/%s/%v", dir, kind, blackout), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						rebindLongBlackout(t, dir, addr, blackout)
					})
				})
			}
		}
	}
}

func rebindLongBlackout(t *testing.T, dir string, addr bool, blackout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
	defer cancel()
	imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}
	const seed = 5
	cc, sc := testConfigs(t)
	var watch *amplificationWatch
	sc.Tracer = func(isClient bool, odcid []byte) *Tracer { return watch.tracer(isClient, odcid) }
	var newHost netip.Addr
	if addr {
		newHost = netip.MustParseAddr("198.18.0.9")
	}
	sn, down, up := newBlackoutNetSockets(t, imp, seed, newHost, cc, sc, func(c *netsim.Conn) packetConn {
		if c.LocalAddrPort() != serverAddr {
			return simSocket{c}
		}
		watch = newAmplificationWatch(simSocket{c}, clientAddr)
		return watch
	})
	if watch == nil {
		t.Fatal("the server's socket was not wrapped")
	}
	client, server := sn.connect(t, ctx)
	data := payload(seed, 4<<20)
	sum, gap, rebound := blackoutTransfer(t, ctx, sn, client, server, dir, newHost, imp, blackout, data, down, up)
	if sum != sha256.Sum256(data) {
		t.Fatal("the bytes differ")
	}
	st := server.Stats()
	cleared := rebound.Add(blackout)
	t.Logf("dark for %v: the data paused %v, and resumed %v after the path cleared; done %v after it; server: path changes %d, validations %d, failures %d",
		blackout, gap, rebound.Add(gap).Sub(cleared), time.Since(cleared), st.PathChanges, st.PathValidations, st.PathValidationFailures)
	if bound := 2*blackout + time.Second; gap > bound {
		t.Errorf("the data paused %v, more than %v", gap, bound)
	}
	watch.mu.Lock()
	fromNew := 0
	for a, n := range watch.recvd {
		if a != clientAddr {
			fromNew += n
		}
	}
	t.Logf("the server sent %d bytes to addresses not validated yet; %d bytes came from the new address", watch.unvalidatedSent, fromNew)
	if v := watch.violations; len(v) > 0 {
		t.Errorf("anti-amplification limit exceeded %d times, first: %s", len(v), v[0])
	}
	watch.mu.Unlock()
	client.Close()
}
