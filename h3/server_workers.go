package h3

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// A goroutine that served a request waits for the connection's next
// request stream, while fewer than maxIdleWorkers others wait, so that a
// busy connection does not start one per request (a goroutine and its
// closure). Workers that stayed idle through a whole workerIdleTimeout
// end, so a quiet connection keeps none for long (one to two periods).
const (
	maxIdleWorkers    = 256
	workerIdleTimeout = time.Second
)

// workerPool is the goroutines that run a connection's handlers. An idle
// worker waits on one channel only, and a hand-off is one send: no timer
// per request. A sweeper timer, armed only while workers are idle, ends
// those that were idle through its whole period: the fewest idle at any
// moment of the period (low), the longest waiting first (a channel's
// receivers are served in order).
type workerPool struct {
	serve func(*quic.Stream) // runs the handler of one request stream
	next  chan *quic.Stream  // unbuffered; nil (sweep) or closed (stop): end
	idle  atomic.Int32       // workers waiting on next
	low   atomic.Int32       // the fewest idle since the last sweep
	armed atomic.Bool        // the sweeper is running
	wg    sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	sweeper *time.Timer
}

// start readies the pool to run serve for each stream handed to it.
func (p *workerPool) start(serve func(*quic.Stream)) {
	p.serve = serve
	p.next = make(chan *quic.Stream)
}

// hand gives str to an idle worker, or to a new one. Only the goroutine
// that accepts request streams calls it.
func (p *workerPool) hand(str *quic.Stream) {
	select {
	case p.next <- str:
		return
	default:
	}
	p.wg.Add(1)
	go p.work(str)
}

// work serves str, then the streams handed to it, until it is told to end.
func (p *workerPool) work(str *quic.Stream) {
	defer p.wg.Done()
	for {
		p.serve(str)
		if p.idle.Add(1) > maxIdleWorkers {
			p.idle.Add(-1)
			return
		}
		if !p.armed.Load() {
			p.arm()
		}
		var ok bool
		str, ok = <-p.next
		if !ok {
			p.idle.Add(-1)
			return
		}
		if str == nil {
			return // retired by sweep, which counted it out
		}
		n := p.idle.Add(-1)
		for {
			low := p.low.Load()
			if n >= low || p.low.CompareAndSwap(low, n) {
				break
			}
		}
	}
}

// arm starts the sweeper, unless it runs.
func (p *workerPool) arm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.armed.Load() {
		return
	}
	p.armed.Store(true)
	p.low.Store(p.idle.Load())
	p.sweeper = time.AfterFunc(workerIdleTimeout, p.sweep)
}

// sweep ends the workers that were idle through the period that ended,
// and goes on while workers are idle.
func (p *workerPool) sweep() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	for n := min(p.low.Load(), p.idle.Load()); n > 0; n-- {
		select {
		case p.next <- nil:
			p.idle.Add(-1)
		default:
			n = 1 // none waits after all
		}
	}
	p.low.Store(p.idle.Load())
	if p.idle.Load() > 0 {
		p.sweeper.Reset(workerIdleTimeout)
		return
	}
	p.armed.Store(false)
	p.sweeper = nil
	// A worker that became idle after the look above and saw the sweeper
	// still armed did not arm it: look again now that it is disarmed.
	if p.idle.Load() > 0 {
		p.armed.Store(true)
		p.sweeper = time.AfterFunc(workerIdleTimeout, p.sweep)
	}
}

// stop ends the idle workers and waits for the busy ones to finish.
func (p *workerPool) stop() {
	p.mu.Lock()
	p.stopped = true
	if p.sweeper != nil {
		p.sweeper.Stop()
		p.sweeper = nil
	}
	close(p.next)
	p.mu.Unlock()
	p.wg.Wait()
}
