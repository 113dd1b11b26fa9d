package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/interop/perf"
)

// Runner measures every figure for every transport against one peer. Each
// figure is measured for all transports one after another before the next
// figure, so that a column's numbers come from the same run and a change
// in machine load spreads over all columns.
type Runner struct {
	Peer       *Peer
	Transports []perf.Transport
	Config     Config
	// Progress, if set, gets a line per measurement as it starts.
	Progress io.Writer
}

// estimatedPacketPayload is the STREAM payload of a full QUIC packet at the
// 1500-byte MTU: 1500 - 20 (IPv4) - 8 (UDP) - ~20 (QUIC header, AEAD tag,
// frame header). Packet counts are estimated with it where a transport does
// not count packets.
const estimatedPacketPayload = 1452

type bulkResult struct {
	gbps, clientCPUPerGB, serverCPUPerGB float64
	allocsPerPacket                      Value
}

func (r *Runner) progress(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format+"\n", args...)
	}
}

func (r *Runner) dialer(tr perf.Transport) (perf.Dialer, string, error) {
	addr, ok := r.Peer.Addrs[tr.Name]
	if !ok {
		return nil, "", fmt.Errorf("the peer does not serve %s", tr.Name)
	}
	d, err := tr.NewDialer(r.Peer.Cred)
	return d, addr, err
}

// bulk moves Config.Bytes over one fresh connection, one stream, and reads
// both sides' CPU time around the transfer (draft-banks-quic-performance-00
// §3.1: timed from opening the stream to the server's FIN). The handshake
// is not timed.
func (r *Runner) bulk(ctx context.Context, tr perf.Transport, upload bool) (bulkResult, error) {
	var res bulkResult
	d, addr, err := r.dialer(tr)
	if err != nil {
		return res, err
	}
	defer d.Close()
	c, err := d.Dial(ctx, addr)
	if err != nil {
		return res, err
	}
	defer c.Close()

	req := perf.Request{Verify: r.Config.Verify, Buffer: make([]byte, perf.PatternLen)}
	if upload {
		req.Upload = r.Config.Bytes
	} else {
		req.Download = uint64(r.Config.Bytes)
	}
	pc, counted := c.(perf.PacketCounter)
	var sent0, recv0 uint64
	if counted {
		sent0, recv0 = pc.Packets()
	}
	server0, err := r.Peer.CPU(ctx)
	if err != nil {
		return res, err
	}
	allocs0 := mallocs()
	cpu0 := ProcessCPU()
	start := time.Now()
	if _, err := perf.Do(ctx, c, req); err != nil {
		return res, err
	}
	elapsed := time.Since(start)
	cpu := ProcessCPU().Sub(cpu0)
	allocs := mallocs() - allocs0
	server1, err := r.Peer.CPU(ctx)
	if err != nil {
		return res, err
	}

	gb := float64(r.Config.Bytes) / 1e9
	res.gbps = 8 * gb / elapsed.Seconds()
	res.clientCPUPerGB = cpu.Total().Seconds() / gb
	res.serverCPUPerGB = server1.Sub(server0).Total().Seconds() / gb
	if counted {
		sent1, recv1 := pc.Packets()
		if p := (sent1 - sent0) + (recv1 - recv0); p > 0 {
			res.allocsPerPacket = Value{V: float64(allocs) / float64(p), OK: true}
		}
	} else {
		// Data packets only (ACKs not counted): an estimate, marked so.
		p := max(1, r.Config.Bytes/estimatedPacketPayload)
		res.allocsPerPacket = Value{V: float64(allocs) / float64(p), OK: true, Estimate: true}
	}
	return res, nil
}

// handshakes opens and closes Config.Handshakes connections, parallel at a
// time (draft §3.3), and returns handshakes per second. A connection counts
// once its client side has completed the handshake; it is then closed.
// resumed: each connection resumes the session of the one before, and is
// closed once its own ticket arrived (perf's resuming dialers).
func (r *Runner) handshakes(ctx context.Context, tr perf.Transport, parallel int, resumed bool) (float64, error) {
	d, addr, err := r.dialer(tr)
	if resumed && err == nil {
		d.Close()
		d, err = tr.NewResumingDialer(r.Peer.Cred)
	}
	if err != nil {
		return 0, err
	}
	defer d.Close()
	// One untimed handshake sets up what the dialer shares (a UDP socket).
	if c, err := d.Dial(ctx, addr); err != nil {
		return 0, err
	} else {
		c.Close()
	}
	var next atomic.Int64
	n := int64(r.Config.Handshakes)
	start := time.Now()
	err = workers(ctx, parallel, func(ctx context.Context, _ int) error {
		for next.Add(1) <= n {
			c, err := d.Dial(ctx, addr)
			if err != nil {
				return err
			}
			if rs, ok := c.(perf.Resumer); resumed && (!ok || !rs.Resumed()) {
				c.Close()
				return errors.New("a handshake did not resume")
			}
			c.Close()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// requests keeps Config.InFlight requests in flight until Config.Requests
// have completed (draft §3.2) and returns requests per second. QUIC runs
// them as concurrent streams of one connection; a transport with serial
// streams (TCP+TLS) gets one connection per request in flight, set up
// before timing starts.
func (r *Runner) requests(ctx context.Context, tr perf.Transport) (float64, error) {
	d, addr, err := r.dialer(tr)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	nconns := 1
	if tr.SerialStreams {
		nconns = r.Config.InFlight
	}
	conns := make([]perf.Conn, nconns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		if conns[i], err = d.Dial(ctx, addr); err != nil {
			return 0, err
		}
	}
	var next atomic.Int64
	n := int64(r.Config.Requests)
	start := time.Now()
	err = workers(ctx, r.Config.InFlight, func(ctx context.Context, w int) error {
		c := conns[w%nconns]
		req := perf.Request{
			Upload:   r.Config.RequestUp,
			Download: uint64(r.Config.RequestDown),
			Verify:   r.Config.Verify,
			Buffer:   make([]byte, perf.PatternLen),
		}
		for next.Add(1) <= n {
			if _, err := perf.Do(ctx, c, req); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

type idleResult struct{ client, server Mem }

// idleSettle is how long the idle connections stay quiet before their
// memory is read.
const idleSettle = 2 * time.Second

// idle opens Config.IdleConns connections, completes one empty perf request
// on each (so that both sides have finished the handshake and served a
// stream), and returns the growth of each side's live heap and stacks
// divided by the number of connections. The client side includes its share
// of the dialer's socket; the server side includes the perf server's
// goroutine per connection.
func (r *Runner) idle(ctx context.Context, tr perf.Transport) (idleResult, error) {
	var res idleResult
	d, addr, err := r.dialer(tr)
	if err != nil {
		return res, err
	}
	defer d.Close()
	conns := make([]perf.Conn, r.Config.IdleConns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	client0 := ReadMem()
	server0, err := r.Peer.Mem(ctx)
	if err != nil {
		return res, err
	}
	const dialers = 16
	err = workers(ctx, dialers, func(ctx context.Context, w int) error {
		buf := make([]byte, perf.PatternLen)
		for i := w; i < len(conns); i += dialers {
			c, err := d.Dial(ctx, addr)
			if err != nil {
				return err
			}
			conns[i] = c
			if _, err := perf.Do(ctx, c, perf.Request{Buffer: buf}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	// Idle means idle: every stack gets the same seconds of quiet before
	// the heaps are read (skiff's connections trim what the handshake
	// and the request grew after one second of it).
	select {
	case <-time.After(idleSettle):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	client1 := ReadMem()
	server1, err := r.Peer.Mem(ctx)
	if err != nil {
		return res, err
	}
	n := int64(len(conns))
	res.client = Mem{Heap: (client1.Heap - client0.Heap) / n, Stack: (client1.Stack - client0.Stack) / n,
		Goroutines: client1.Goroutines - client0.Goroutines}
	res.server = Mem{Heap: (server1.Heap - server0.Heap) / n, Stack: (server1.Stack - server0.Stack) / n,
		Goroutines: server1.Goroutines - server0.Goroutines}
	return res, nil
}

// workers runs f(ctx, 0..n-1) concurrently and returns the first error;
// the first error also cancels the others' context, so that none is left
// waiting on a peer that will not answer.
func workers(ctx context.Context, n int, f func(ctx context.Context, w int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for w := range n {
		wg.Go(func() {
			if err := f(ctx, w); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
}
