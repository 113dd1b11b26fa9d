package streambuf

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// testDatagram is a received datagram's memory, counted by references as
// the endpoint's receive buffers are; when the last reference goes its
// bytes are overwritten, as a buffer used for the next datagram would be,
// so that a reader still copying from it reads garbage.
type testDatagram struct {
	b    []byte
	size int // what Size reports: len(b) unless set
	refs atomic.Int32
	// holds and releases count the calls.
	holds, releases atomic.Int32
}

func newTestDatagram(data []byte) *testDatagram {
	d := &testDatagram{b: bytes.Clone(data)}
	d.refs.Store(1) // the receiver's own, dropped once it is processed
	return d
}

func (d *testDatagram) Hold() {
	d.holds.Add(1)
	d.refs.Add(1)
}

func (d *testDatagram) Size() int {
	if d.size > 0 {
		return d.size
	}
	return len(d.b)
}

func (d *testDatagram) Release() {
	d.releases.Add(1)
	d.drop()
}

func (d *testDatagram) drop() {
	if n := d.refs.Add(-1); n == 0 {
		for i := range d.b {
			d.b[i] = 0xee
		}
	} else if n < 0 {
		panic("released more than held")
	}
}

func testData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeHeld writes src to r from offset 0 in frames of seg bytes, each in
// a datagram of its own that the receiver drops once processed, and
// returns the datagrams.
func writeHeld(t *testing.T, r *Recv, budget *HoldBudget, src []byte, seg int) []*testDatagram {
	t.Helper()
	var ds []*testDatagram
	for off := 0; off < len(src); off += seg {
		d := newTestDatagram(src[off:min(off+seg, len(src))])
		if _, err := r.WriteHeld(uint64(off), d.b, false, d, budget); err != nil {
			t.Fatal(err)
		}
		d.drop()
		ds = append(ds, d)
	}
	return ds
}

// In-order full-size frames are held, not copied: the reader reads the
// datagrams' own bytes, and each datagram is released once read to its
// end, whatever the sizes of the reads.
func TestRecvHeldInOrder(t *testing.T) {
	src := testData(1, 10*1400)
	var r Recv
	var budget HoldBudget
	ds := writeHeld(t, &r, &budget, src, 1400)
	if got := budget.Held(); got != len(src) {
		t.Fatalf("%d bytes pinned, want %d", got, len(src))
	}
	if r.data.held() != 0 {
		t.Fatalf("%d bytes copied into chunks", r.data.held())
	}
	// The data is not copied: a change to a datagram shows.
	ds[0].b[0] ^= 0xff
	want := bytes.Clone(src)
	want[0] ^= 0xff
	var got []byte
	buf := make([]byte, 1000)
	for {
		n, _ := r.Read(buf)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
		for i, d := range ds {
			if read, released := len(got) >= (i+1)*1400, d.releases.Load() == 1; read != released {
				t.Fatalf("after %d bytes read: datagram %d released %d times", len(got), i, d.releases.Load())
			}
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read differs from the datagrams' bytes")
	}
	if budget.Held() != 0 || r.held != nil {
		t.Fatalf("budget %d, ring %v after everything was read", budget.Held(), r.held != nil)
	}
}

// Data out of order, or behind copied data, or short, or beyond the
// limits, is copied; held and copied data read back in order.
func TestRecvHeldMixed(t *testing.T) {
	const seg = 1200
	src := testData(2, (maxHeldPerStream+8)*seg)
	var r Recv
	var budget HoldBudget
	write := func(i int) {
		t.Helper()
		d := newTestDatagram(src[i*seg : (i+1)*seg])
		if _, err := r.WriteHeld(uint64(i*seg), d.b, false, d, &budget); err != nil {
			t.Fatal(err)
		}
		d.drop()
	}
	write(0)
	write(1)
	write(3) // out of order: copied
	write(2) // fills the gap, behind copied data: copied
	if got := budget.Held(); got != 2*seg {
		t.Fatalf("%d bytes pinned after a gap, want %d", got, 2*seg)
	}
	buf := make([]byte, 4*seg)
	if n, _ := r.Read(buf); n != 4*seg || !bytes.Equal(buf, src[:4*seg]) {
		t.Fatalf("read %d bytes, want the first %d", n, 4*seg)
	}
	// Everything read: the next data is held again, up to the stream's
	// limit.
	for i := 4; i < len(src)/seg; i++ {
		write(i)
	}
	if got := budget.Held(); got != maxHeldPerStream*seg {
		t.Fatalf("%d bytes pinned, want the stream's limit, %d slices", got, maxHeldPerStream)
	}
	got := make([]byte, 0, len(src))
	for {
		n, _ := r.Read(buf[:1+rand.IntN(len(buf)-1)])
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, src[4*seg:]) {
		t.Fatal("held and copied data read back out of order")
	}
	if budget.Held() != 0 {
		t.Fatalf("%d still held", budget.Held())
	}

	// A short frame is copied, unless it continues a run of its datagram.
	var short Recv
	d := newTestDatagram(make([]byte, minHeldLen-1))
	short.WriteHeld(0, d.b, false, d, &budget)
	if d.holds.Load() != 0 {
		t.Fatal("a short frame was held")
	}
	d.drop()
	var run Recv
	d = newTestDatagram(make([]byte, minHeldLen+10))
	run.WriteHeld(0, d.b[:minHeldLen], false, d, &budget)
	run.WriteHeld(minHeldLen, d.b[minHeldLen:], false, d, &budget)
	d.drop()
	// The run takes one reference, carried by its last slice.
	if d.holds.Load() != 1 || budget.Held() != d.Size() {
		t.Fatalf("a run of two slices of one datagram: %d holds, %d bytes counted", d.holds.Load(), budget.Held())
	}
	run.Discard()
	if d.refs.Load() != 0 || budget.Held() != 0 {
		t.Fatal("the run was not released")
	}
}

// One connection's streams together pin at most maxHeldBytes; slices of
// one datagram in a row count it once.
func TestRecvHeldConnectionBudget(t *testing.T) {
	var budget HoldBudget
	const size = maxHeldBytes / 4
	data := testData(3, 1400)
	var streams [3]Recv
	var ds []*testDatagram
	for i := range streams {
		for k := range 2 {
			d := newTestDatagram(data)
			d.size = size
			ds = append(ds, d)
			// Two slices of d (two frames of one packet, or a datagram of
			// a run, as the endpoint hands them over): charged once.
			streams[i].WriteHeld(uint64(2*k*700), d.b[:700], false, d, &budget)
			streams[i].WriteHeld(uint64((2*k+1)*700), d.b[700:], false, d, &budget)
			d.drop()
		}
	}
	held := 0
	for _, d := range ds {
		held += int(d.holds.Load())
	}
	if held != 0 {
		t.Fatalf("%d slices shorter than minHeldLen held", held)
	}
	for i := range streams {
		streams[i].Discard()
	}
	// Full-size slices: two per datagram, one reference.
	data = testData(3, 2*minHeldLen)
	ds = ds[:0]
	streams = [3]Recv{}
	for i := range streams {
		for k := range 2 {
			d := newTestDatagram(data)
			d.size = size
			ds = append(ds, d)
			streams[i].WriteHeld(uint64(2*k*minHeldLen), d.b[:minHeldLen], false, d, &budget)
			streams[i].WriteHeld(uint64((2*k+1)*minHeldLen), d.b[minHeldLen:], false, d, &budget)
			d.drop()
		}
	}
	held = 0
	for _, d := range ds {
		if n := d.holds.Load(); n != 0 && n != 1 {
			t.Fatalf("a datagram held %d times, want 0 or 1", n)
		}
		if d.holds.Load() > 0 {
			held++
		}
	}
	if held != 4 || budget.Held() != maxHeldBytes {
		t.Fatalf("%d datagrams held (budget %d), want 4 (%d)", held, budget.Held(), maxHeldBytes)
	}
	for i := range streams {
		streams[i].Discard()
	}
	if budget.Held() != 0 {
		t.Fatalf("%d held after Discard", budget.Held())
	}
	for i, d := range ds {
		if d.refs.Load() != 0 {
			t.Fatalf("datagram %d still referenced", i)
		}
	}
}

// A peer that puts one short frame in each 64 KiB buffer makes every held
// slice pin a whole buffer: with the limit the connection sets (twice its
// receive window, here 768 KiB), what it pins stays within that, and the
// rest is copied.
func TestRecvHeldLimitFollowsWindow(t *testing.T) {
	var budget HoldBudget
	const window = 768 << 10
	budget.SetLimit(2 * window)
	var r Recv
	data := testData(5, minHeldLen)
	var ds []*testDatagram
	for off := 0; off < window; off += minHeldLen {
		d := newTestDatagram(data)
		d.size = 64 << 10
		if _, err := r.WriteHeld(uint64(off), d.b, false, d, &budget); err != nil {
			t.Fatal(err)
		}
		d.drop()
		ds = append(ds, d)
	}
	held := 0
	for _, d := range ds {
		held += int(d.holds.Load())
	}
	if budget.Held() > 2*window || held != 2*window/(64<<10) {
		t.Fatalf("pinned %d bytes in %d buffers, want %d buffers (limit %d)", budget.Held(), held, 2*window/(64<<10), 2*window)
	}
	got := make([]byte, window)
	if n, _ := r.Read(got); n != window {
		t.Fatalf("read %d bytes of %d", n, window)
	}
	for off := 0; off < window; off += minHeldLen {
		if !bytes.Equal(got[off:off+minHeldLen], data) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
	if budget.Held() != 0 {
		t.Fatalf("%d bytes pinned after everything was read", budget.Held())
	}
}

// Unhold copies what is held and releases the datagrams: their reuse does
// not change what is read.
func TestRecvUnhold(t *testing.T) {
	src := testData(4, 5*1400)
	var r Recv
	var budget HoldBudget
	ds := writeHeld(t, &r, &budget, src, 1400)
	buf := make([]byte, len(src))
	n, _ := r.Read(buf[:2000])
	r.Unhold()
	for i, d := range ds {
		if d.refs.Load() != 0 {
			t.Fatalf("datagram %d still referenced after Unhold", i)
		}
	}
	// Data after the copied run is held again, behind it.
	tail := testData(5, 1400)
	d := newTestDatagram(tail)
	r.WriteHeld(uint64(len(src)), d.b, false, d, &budget)
	d.drop()
	if d.holds.Load() != 1 {
		t.Fatal("data after copied data was not held")
	}
	m, _ := r.Read(buf[n:])
	got := append(buf[:n+m:n+m], make([]byte, len(tail))...)
	k, _ := r.Read(got[n+m:])
	if !bytes.Equal(got[:n+m+k], append(bytes.Clone(src), tail...)) {
		t.Fatal("read after Unhold differs")
	}
	if budget.Held() != 0 {
		t.Fatalf("%d still held", budget.Held())
	}
}

// A reader copying from held datagrams while the connection writes more,
// and resets or stops some streams, never reads a released datagram's
// bytes, and every datagram is released (run with -race).
func TestRecvPartHeldConcurrent(t *testing.T) {
	for seed := range uint64(4) {
		const seg = 1300
		src := testData(10+seed, 200*seg)
		var rp RecvPart
		rp.Init(1 << 30)
		var budget HoldBudget
		var all []*testDatagram
		var got bytes.Buffer
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			readToEOF(&rp, &got, 9000)
		}()
		r := rand.New(rand.NewPCG(seed, 5))
		for off := 0; off < len(src); off += seg {
			d := newTestDatagram(src[off : off+seg])
			all = append(all, d)
			if _, err := rp.WriteHeld(uint64(off), d.b, off+seg == len(src), d, &budget); err != nil {
				t.Fatal(err)
			}
			d.drop() // the receiver is done with it
			if r.IntN(16) == 0 {
				rp.Unhold() // an idle trim
			}
			runtime.Gosched()
		}
		wg.Wait()
		if got.Len() != len(src) || sha256.Sum256(got.Bytes()) != sha256.Sum256(src) {
			t.Fatalf("seed %d: read %d bytes, want %d identical", seed, got.Len(), len(src))
		}
		for i, d := range all {
			if d.refs.Load() != 0 || d.holds.Load() != d.releases.Load() {
				t.Fatalf("seed %d: datagram %d: %d refs, %d holds, %d releases", seed, i, d.refs.Load(), d.holds.Load(), d.releases.Load())
			}
		}
		if budget.Held() != 0 {
			t.Fatalf("seed %d: %d still held", seed, budget.Held())
		}
	}
}

// Stopping reading (CloseRead) or the peer's reset releases what is held.
func TestRecvPartHeldReleasedOnClose(t *testing.T) {
	for _, reset := range []bool{false, true} {
		var rp RecvPart
		rp.Init(1 << 20)
		var budget HoldBudget
		d := newTestDatagram(testData(6, 1400))
		rp.WriteHeld(0, d.b, false, d, &budget)
		d.drop()
		if reset {
			rp.Reset(5000, 7)
		} else {
			rp.CloseRead(7)
		}
		if d.refs.Load() != 0 || budget.Held() != 0 {
			t.Fatalf("reset %v: datagram refs %d, budget %d", reset, d.refs.Load(), budget.Held())
		}
	}
}

// Frames mostly in order, some swapped or repeated, of sizes around the
// hold threshold, read in random amounts, with what is held copied now
// and then: the reader reads exactly the stream, and every datagram is
// released.
func TestRecvHeldRandom(t *testing.T) {
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 9))
		src := testData(20+seed, 400_000)
		type fr struct{ off, end int }
		var frames []fr
		for off := 0; off < len(src); {
			end := min(len(src), off+900+r.IntN(600))
			frames = append(frames, fr{off, end})
			off = end
		}
		for i := 0; i+1 < len(frames); i++ {
			if r.IntN(20) == 0 {
				frames[i], frames[i+1] = frames[i+1], frames[i]
			}
		}
		var rv Recv
		var budget HoldBudget
		var all []*testDatagram
		var got []byte
		buf := make([]byte, 20_000)
		for _, f := range frames {
			for range 1 + r.IntN(20)/19 {
				d := newTestDatagram(src[f.off:f.end])
				all = append(all, d)
				if _, err := rv.WriteHeld(uint64(f.off), d.b, f.end == len(src), d, &budget); err != nil {
					t.Fatal(err)
				}
				d.drop()
			}
			if r.IntN(40) == 0 {
				rv.Unhold()
			}
			if r.IntN(3) == 0 {
				n, _ := rv.Read(buf[:r.IntN(len(buf))])
				got = append(got, buf[:n]...)
			}
		}
		for {
			n, eof := rv.Read(buf)
			got = append(got, buf[:n]...)
			if eof {
				break
			}
			if n == 0 {
				t.Fatalf("seed %d: stuck at %d of %d bytes", seed, len(got), len(src))
			}
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("seed %d: read %d bytes, not the %d written", seed, len(got), len(src))
		}
		holds := 0
		for i, d := range all {
			holds += int(d.holds.Load())
			if d.refs.Load() != 0 {
				t.Fatalf("seed %d: datagram %d still referenced", seed, i)
			}
		}
		if holds == 0 || budget.Held() != 0 {
			t.Fatalf("seed %d: %d holds, %d bytes still counted", seed, holds, budget.Held())
		}
	}
}

// A run of slices of one datagram (the packets of a GRO buffer) takes one
// reference, dropped when the run's last slice has been read: the memory
// stays valid while any slice of the run is unread.
func TestRecvHeldRunOneReference(t *testing.T) {
	const seg, n = 1200, 5
	src := testData(5, seg*n)
	// The datagram holds each slice after a 30-byte "header", as packets
	// lie in a GRO buffer.
	raw := make([]byte, 0, n*(seg+30))
	for i := range n {
		raw = append(raw, make([]byte, 30)...)
		raw = append(raw, src[i*seg:(i+1)*seg]...)
	}
	d := newTestDatagram(raw)
	var r Recv
	var budget HoldBudget
	for i := range n {
		at := i*(seg+30) + 30
		if _, err := r.WriteHeld(uint64(i*seg), d.b[at:at+seg], false, d, &budget); err != nil {
			t.Fatal(err)
		}
	}
	d.drop() // the receiver's own reference
	if d.holds.Load() != 1 || d.refs.Load() != 1 {
		t.Fatalf("%d holds, %d references for a run of %d slices, want 1 and 1", d.holds.Load(), d.refs.Load(), n)
	}
	buf := make([]byte, seg*n)
	got := 0
	for got < (n-1)*seg+1 {
		k, _ := r.Read(buf[got : got+seg/2])
		got += k
	}
	if d.releases.Load() != 0 {
		t.Fatal("released before the run's last slice was read")
	}
	for {
		k, _ := r.Read(buf[got:])
		if k == 0 {
			break
		}
		got += k
	}
	if !bytes.Equal(buf[:got], src) {
		t.Fatal("read differs from the data")
	}
	if d.releases.Load() != 1 || d.refs.Load() != 0 || budget.Held() != 0 {
		t.Fatalf("after reading everything: %d releases, %d references, %d bytes pinned", d.releases.Load(), d.refs.Load(), budget.Held())
	}
}

// benchBuffer is a Holder as light as the endpoint's receive buffers: one
// atomic counter.
type benchBuffer struct {
	b    []byte
	refs atomic.Int32
}

func (h *benchBuffer) Hold()     { h.refs.Add(1) }
func (h *benchBuffer) Release()  { h.refs.Add(-1) }
func (h *benchBuffer) Size() int { return len(h.b) }

// BenchmarkRecvHeldRun: each operation holds the 45 packets' STREAM data
// of one GRO buffer (1400 bytes each, between 52 bytes of headers) in order
// and reads it out, as a bulk receiver does; ns/pkt is per packet.
func BenchmarkRecvHeldRun(b *testing.B) {
	const seg, gap, n = 1400, 52, 45
	h := &benchBuffer{b: make([]byte, 64<<10)}
	var r Recv
	var budget HoldBudget
	buf := make([]byte, 64<<10)
	var off uint64
	b.ReportAllocs()
	for b.Loop() {
		for i := range n {
			at := i*(seg+gap) + gap
			if _, err := r.WriteHeld(off, h.b[at:at+seg], false, h, &budget); err != nil {
				b.Fatal(err)
			}
			off += seg
		}
		for {
			if k, _ := r.Read(buf); k == 0 {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pkt")
}
