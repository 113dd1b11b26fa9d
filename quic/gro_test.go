package quic

import (
	"context"
	"crypto/sha256"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/udpio"
)

// groSocket is a simulated socket that coalesces what it receives as a
// kernel with UDP_GRO does: datagrams waiting together, from one source,
// of one size (the last may be shorter), come in one Message. It
// coalesces across connections too, as GRO (which knows only addresses)
// does when two connections share a pair of sockets.
type groSocket struct {
	simSocket
	in      chan netsimDatagram
	once    sync.Once
	pending *netsimDatagram // taken from in, for the next call
	// runs and coalesced count what it handed over.
	mu              sync.Mutex
	runs, coalesced int
}

type netsimDatagram struct {
	b    []byte
	from netip.AddrPort
}

func newGROSocket(c *netsim.Conn) *groSocket {
	return &groSocket{simSocket: simSocket{c}, in: make(chan netsimDatagram, 1024)}
}

func (s *groSocket) Capabilities() udpio.Capabilities {
	return udpio.Capabilities{ECN: true, GRO: true}
}

// pump moves datagrams from the network to in, so that ReadBatch can take
// what waits without blocking.
func (s *groSocket) pump() {
	for {
		b := make([]byte, 1500)
		n, from, err := s.c.ReadFromUDPAddrPort(b)
		if err != nil {
			close(s.in)
			return
		}
		s.in <- netsimDatagram{b[:n], from}
	}
}

func (s *groSocket) ReadBatch(msgs []udpio.Message) (int, error) {
	s.once.Do(func() { go s.pump() })
	var d netsimDatagram
	if s.pending != nil {
		d, s.pending = *s.pending, nil
	} else {
		var ok bool
		if d, ok = <-s.in; !ok {
			return 0, net.ErrClosed
		}
	}
	// Let everything due at this instant arrive (synthetic time moves on
	// only once every goroutine waits): a kernel coalesces what waits in
	// the socket together.
	time.Sleep(time.Microsecond)
	k := 0
	for {
		m := &msgs[k]
		m.N, m.Addr, m.ECN, m.SegmentSize = copy(m.Buf, d.b), d.from, 0, 0
		seg := len(d.b)
		for {
			var next netsimDatagram
			ok := false
			select {
			case next, ok = <-s.in:
			default:
			}
			if !ok {
				s.count(m)
				return k + 1, nil
			}
			if next.from == d.from && len(next.b) <= seg && m.N%seg == 0 && m.N+len(next.b) <= len(m.Buf) {
				m.N += copy(m.Buf[m.N:], next.b)
				m.SegmentSize = seg
				continue
			}
			s.count(m)
			d = next
			break
		}
		if k++; k == len(msgs) {
			// No room: the next datagram waits for the next call.
			s.pending = &d
			return k, nil
		}
	}
}

func (s *groSocket) count(m *udpio.Message) {
	s.mu.Lock()
	s.runs++
	if m.SegmentSize > 0 {
		s.coalesced++
	}
	s.mu.Unlock()
}

// Two connections between one pair of endpoints, each moving data both
// ways at once, over sockets that coalesce as GRO does: runs mix the
// connections' datagrams, which reach each connection without a copy,
// every byte arrives, and every receive buffer goes back to its pool.
func TestSimGROMixedRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		groBefore, smallBefore := groBuffers.inUse(), smallBuffers.inUse()
		cc, sc := cheapConfigs(t)
		var socks []*groSocket
		sn := newSimNetSockets(t, netsim.Impairment{Delay: 2 * time.Millisecond}, 1, cc, sc, func(c *netsim.Conn) packetConn {
			s := newGROSocket(c)
			socks = append(socks, s)
			return s
		})
		var pairs [2][2]*Conn
		for i := range pairs {
			pairs[i][0], pairs[i][1] = sn.connect(t, ctx)
		}
		var wg sync.WaitGroup
		for i, p := range pairs {
			for dir := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					data := payload(uint64(10*i+dir), 2<<20)
					if transfer(t, ctx, p[dir], p[1-dir], data) != sha256.Sum256(data) {
						t.Errorf("connection %d, direction %d: hash differs", i, dir)
					}
				}()
			}
		}
		wg.Wait()
		sn.client.Close()
		sn.server.Close()
		for _, s := range socks {
			s.mu.Lock()
			t.Logf("%d messages, %d of them coalesced runs", s.runs, s.coalesced)
			if s.coalesced == 0 {
				t.Error("nothing was coalesced")
			}
			s.mu.Unlock()
		}
		if g, s := groBuffers.inUse()-groBefore, smallBuffers.inUse()-smallBefore; g != 0 || s != 0 {
			t.Errorf("%d GRO and %d small receive buffers not returned", g, s)
		}
	})
}
