package quic

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// Receive buffers. The endpoint's reader receives into rxBuffers: one
// datagram each (maxReceiveSize bytes), or with GRO a run of coalesced
// datagrams each (64 KiB). The datagrams of a run are handed to their
// connections in place, as slices of the buffer: nothing is copied out of
// it, and the connection parses each packet where it lies. A buffer counts
// its references, one per datagram handed over plus one the reader holds
// while it routes, and goes back to its pool when the last is dropped.
//
// A stream may keep its data where it lies in a GRO buffer, with a
// reference, until the application reads it (Hold, Release): the bytes are
// copied once, from the buffer to the application.
//
// With GRO a datagram of up to 1500 bytes that arrives alone is copied into
// a small buffer: it is small (an ACK) or rare, and a connection that holds
// a 64 KiB buffer per queued datagram would hold far too much. A larger one
// (MaxDatagramSize) keeps its buffer.

// maxReceiveSize bounds the datagrams we accept: our max_udp_payload_size
// (1500) tells peers not to send more.
const maxReceiveSize = conn.MaxReceiveSize

// rxBuffer is memory datagrams are received into.
type rxBuffer struct {
	buf  []byte
	refs atomic.Int32
	pool *rxPool
}

// datagram is a received datagram on its way from the endpoint's reader to
// a connection's driver: bytes [off, off+n) of a buffer. In a connection's
// inbox it stands for a run of datagrams, n bytes cut in seg-byte pieces
// (the last may be shorter), all from one address with one ECN mark, as
// GRO coalesced them; it then holds one reference to its buffer.
type datagram struct {
	rb          *rxBuffer
	off, n, seg int32
	local       int32 // the endpoint's socket it arrived on
	from        netip.AddrPort
	ecn         uint8
}

func (d *datagram) bytes() []byte { return d.rb.buf[d.off : d.off+d.n] }

// holder is what the connection may hold d's stream data by: its GRO
// buffer. A small buffer holds one datagram, so holding it would cost a
// pool lock per datagram when the application releases it, and keep
// thousands of small buffers out of their pool: its data is copied.
func (d *datagram) holder() streambuf.Holder {
	if d.rb.pool != &groBuffers {
		return nil
	}
	return d.rb
}

// extend adds e, the next datagram of the same GRO run, to d, and reports
// whether it could: e must follow d in the buffer, with d's pieces full.
func (d *datagram) extend(e *datagram) bool {
	if e.rb != d.rb || e.off != d.off+d.n || d.seg == 0 || d.n%d.seg != 0 || e.n > d.seg {
		return false
	}
	d.n += e.n
	return true
}

// rxPool is a free list of receive buffers of one size, shared by the
// endpoints' readers (which take them) and the connections' drivers (which
// give them back, a batch at a time). Unlike a sync.Pool it is not emptied
// by garbage collection, so a steady flow of datagrams allocates nothing.
// It keeps at most perReader buffers for each open endpoint's reader and
// lets the rest go: when endpoints close (a client's Dial sockets, say),
// the memory their flows needed goes with them. When the last connection
// ends, or a connection goes idle, the list shrinks further, to idleReader
// buffers per reader: what a burst needed is not kept for a burst that may
// not come (trimPoolsAtEnd says why not at every connection's end).
type rxPool struct {
	size, perReader, idleReader int
	mu                          sync.Mutex
	free                        []*rxBuffer
	readers                     int
	// made and dropped count buffers allocated and let go (the free list
	// full): made-dropped-len(free) are in use, for tests to check that
	// every buffer comes back.
	made, dropped int
}

// addReader counts an endpoint's reader in (d = 1) or out (d = -1); the
// free list shrinks to the new limit at once.
func (p *rxPool) addReader(d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readers += d
	p.trimTo(p.max())
}

// trimTo lets free buffers beyond n go.
func (p *rxPool) trimTo(n int) {
	if len(p.free) > n {
		clear(p.free[n:])
		p.dropped += len(p.free) - n
		p.free = p.free[:n]
	}
}

// trimPools shrinks both free lists to their idle size, and lets the
// send buffers' reserves go (sendbuf.go).
func trimPools() {
	for _, p := range [...]*rxPool{&smallBuffers, &groBuffers} {
		p.mu.Lock()
		p.trimTo(p.idleReader * max(p.readers, 0))
		p.mu.Unlock()
	}
	sendBufPool.trim()
	handshakeSendBufPool.trim()
}

// max is how many free buffers p keeps.
func (p *rxPool) max() int { return p.perReader * max(p.readers, 0) }

// inUse is how many of p's buffers are out of its free list.
func (p *rxPool) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made - p.dropped - len(p.free)
}

var (
	// smallBuffers hold one datagram: 2048 spares per reader (3 MB)
	// cover the datagrams in flight of its fast connections; 64 (96 KB)
	// stay when they are done.
	smallBuffers = rxPool{size: maxReceiveSize, perReader: 2048, idleReader: 64}
	// groBuffers hold a coalesced run: 160 spares per reader (10 MiB)
	// cover what its fast connections hold in their inboxes and their
	// streams hold unread (streambuf's held data, up to 8 MiB a
	// connection): with 64, a bulk receiver whose reader lagged dropped
	// buffers and made new ones, 3.7% of its CPU (allocation and
	// zeroing); 8 (512 KiB) stay when they are done.
	groBuffers = rxPool{size: 1 << 16, perReader: 160, idleReader: 8}
)

// fill sets every nil entry of bs to a free buffer, with one lock. Each
// starts with the one reference of its taker.
func (p *rxPool) fill(bs []*rxBuffer) {
	p.mu.Lock()
	for i := range bs {
		if bs[i] != nil {
			continue
		}
		if n := len(p.free); n > 0 {
			bs[i] = p.free[n-1]
			p.free[n-1] = nil
			p.free = p.free[:n-1]
		}
	}
	made := 0
	for i := range bs {
		if bs[i] == nil {
			bs[i] = &rxBuffer{buf: make([]byte, p.size), pool: p}
			made++
		}
		bs[i].refs.Store(1)
	}
	p.made += made
	p.mu.Unlock()
}

// put gives buffers back, with one lock, and clears bs.
func (p *rxPool) put(bs []*rxBuffer) {
	p.mu.Lock()
	for i, b := range bs {
		if b == nil {
			continue
		}
		if len(p.free) < p.max() {
			p.free = append(p.free, b)
		} else {
			p.dropped++
		}
		bs[i] = nil
	}
	p.mu.Unlock()
}

// releaseDatagrams drops the references ds hold, one atomic operation per
// buffer, and gives buffers nobody holds any more back to their pool, one
// lock per pool. It clears ds.
func releaseDatagrams(ds []datagram) {
	var smallArr, groArr [64]*rxBuffer
	small, gro := smallArr[:0], groArr[:0]
	for i := 0; i < len(ds); {
		rb := ds[i].rb
		j := i + 1
		for j < len(ds) && ds[j].rb == rb {
			j++
		}
		if rb.refs.Add(-int32(j-i)) == 0 {
			if rb.pool == &groBuffers {
				gro = append(gro, rb)
			} else {
				small = append(small, rb)
			}
			if len(small) == cap(small) {
				smallBuffers.put(small)
				small = small[:0]
			}
			if len(gro) == cap(gro) {
				groBuffers.put(gro)
				gro = gro[:0]
			}
		}
		i = j
	}
	clear(ds)
	if len(small) > 0 {
		smallBuffers.put(small)
	}
	if len(gro) > 0 {
		groBuffers.put(gro)
	}
}

// release drops the reader's reference to b and reports whether nobody
// else holds it: the reader may then use it again.
func (b *rxBuffer) release() bool { return b.refs.Add(-1) == 0 }

// Hold, Release and Size make b a streambuf.Holder: a stream's receive buffer
// that keeps stream data where it was received holds a reference until the
// application has read it, and the last reference gives b back to its pool.
func (b *rxBuffer) Hold() { b.refs.Add(1) }

func (b *rxBuffer) Size() int { return len(b.buf) }

func (b *rxBuffer) Release() {
	if b.refs.Add(-1) == 0 {
		one := [1]*rxBuffer{b}
		b.pool.put(one[:])
	}
}
