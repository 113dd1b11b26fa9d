package streambuf

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestPartsConcurrent moves a stream from a writer goroutine through a
// SendPart, a "connection" goroutine that sends, loses, reorders and
// acknowledges frames, and a RecvPart to a reader goroutine, as the
// application and the connection share them. Run with -race: Write and
// Read copy outside the parts' locks.
func TestPartsConcurrent(t *testing.T) {
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 11))
		src := make([]byte, 300_000+r.IntN(100_000))
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		var sp SendPart
		var rp RecvPart
		rp.Init(64 << 10)
		const limit, cushion = 48 << 10, 8 << 10

		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // the writer
			defer wg.Done()
			rest := src
			for len(rest) > 0 {
				n, st, _ := sp.Write(rest[:min(len(rest), 1+rand.IntN(20000))], limit, cushion)
				rest = rest[n:]
				if st == Blocked {
					runtime.Gosched()
				}
			}
			sp.Close()
		}()
		var got bytes.Buffer
		go func() { // the reader
			defer wg.Done()
			readToEOF(&rp, &got, 7000)
		}()

		// The connection.
		var ss SendState
		var inflight []frame
		for !ss.AllAcked() {
			end, fin, _, _ := sp.State()
			ss.Extend(end, fin)
			readOff, maxData, window := rp.Window()
			if readOff+window/2 > maxData-window/2 {
				rp.SetWindow(readOff+window, window)
			}
			_, maxData, _ = rp.Window()
			// The peer's credit, as MAX_STREAM_DATA would carry it: Write
			// takes no more than it plus the cushion.
			sp.SetCredit(maxData)
			if end, _, _, _ := sp.State(); end > maxData+cushion {
				t.Fatalf("seed %d: %d bytes written with credit %d", seed, end, maxData)
			}
			if off, n, fin, ok := ss.Next(1+r.IntN(1400), maxData); ok {
				b, _, _ := sp.Slice(off, n)
				inflight = append(inflight, frame{off, bytes.Clone(b), fin})
			}
			if len(inflight) == 0 || r.IntN(2) == 0 {
				runtime.Gosched()
				continue
			}
			i := r.IntN(len(inflight))
			f := inflight[i]
			inflight = append(inflight[:i], inflight[i+1:]...)
			if r.IntN(8) == 0 {
				ss.OnLost(f.off, uint64(len(f.data)), f.fin)
				continue
			}
			if _, err := rp.Write(f.off, f.data, f.fin); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if ss.OnAck(f.off, uint64(len(f.data)), f.fin) {
				sp.Acked(ss.AckedBelow())
			}
		}
		wg.Wait()
		if got.Len() != len(src) || sha256.Sum256(got.Bytes()) != sha256.Sum256(src) {
			t.Fatalf("seed %d: read %d bytes, want %d identical", seed, got.Len(), len(src))
		}
		if b := sp.Buffered(); b != 0 {
			t.Fatalf("seed %d: %d bytes still buffered", seed, b)
		}
	}
}

// A reset part takes no more writes, drops its bytes and wakes a waiting
// writer; a reset receiving part reports the code and counts what was
// never read as consumed.
func TestPartsReset(t *testing.T) {
	var sp SendPart
	if n, st, _ := sp.Write(make([]byte, 100), 50, 1<<20); n != 50 || st != Blocked {
		t.Fatalf("Write = %d, %v; want 50, Blocked", n, st)
	}
	if !sp.Stop(7) {
		t.Fatal("Stop did not report the waiting writer")
	}
	sp.Discard()
	if _, st, code := sp.Write([]byte{1}, 50, 1<<20); st != ResetRemote || code != 7 {
		t.Fatalf("Write after STOP_SENDING: %v %d", st, code)
	}

	var rp RecvPart
	rp.Init(1000)
	if _, err := rp.Write(0, make([]byte, 300), false); err != nil {
		t.Fatal(err)
	}
	var buf [100]byte
	if n, st, _, _ := rp.Read(buf[:]); n != 100 || st != OK {
		t.Fatalf("Read = %d, %v", n, st)
	}
	res, err := rp.Reset(500, 9)
	if err != nil || res.Advanced != 200 || res.Consumed != 400 || !res.Readable {
		t.Fatalf("Reset = %+v, %v", res, err)
	}
	if res, _ := rp.Reset(500, 9); res.Advanced != 0 || res.Consumed != 0 {
		t.Fatalf("second Reset counted again: %+v", res)
	}
	if _, st, code, _ := rp.Read(buf[:]); st != ResetRemote || code != 9 {
		t.Fatalf("Read after reset: %v %d", st, code)
	}
	if _, err := rp.Write(0, make([]byte, 1001), false); err != ErrFlowControl {
		t.Fatalf("data beyond the limit: %v", err)
	}
}

// TestSendPartCredit: a writer buffers no more than the peer's credit plus
// the cushion, and a larger credit wakes it.
func TestSendPartCredit(t *testing.T) {
	var sp SendPart
	sp.SetCredit(1000)
	if n, st, _ := sp.Write(make([]byte, 5000), 1<<20, 500); n != 1500 || st != Blocked {
		t.Fatalf("Write = %d, %v; want 1500 (credit + cushion), Blocked", n, st)
	}
	if sp.SetCredit(900) {
		t.Fatal("a smaller credit woke the writer")
	}
	if !sp.SetCredit(2000) {
		t.Fatal("more credit did not wake the waiting writer")
	}
	if n, st, _ := sp.Write(make([]byte, 5000), 1<<20, 500); n != 1000 || st != Blocked {
		t.Fatalf("Write = %d, %v; want 1000, Blocked", n, st)
	}
	// Acknowledgments free memory but not credit.
	sp.Acked(2500)
	if n, _, _ := sp.Write(make([]byte, 5000), 1<<20, 500); n != 0 {
		t.Fatalf("wrote %d bytes beyond credit + cushion after an ACK", n)
	}
	if b := sp.Buffered(); b != 0 {
		t.Fatalf("%d bytes buffered, all acknowledged", b)
	}
}

// A send buffer that grows keeps the smaller buffer it outgrew (someone may
// still copy from it) until it empties; then it holds nothing, its chunk
// index included, and the next write takes the size its offset needs.
func TestSendPartGrowthKept(t *testing.T) {
	var sp SendPart
	sp.SetCredit(1 << 20)
	sp.Write(make([]byte, 10), 1<<20, 0) // a HEADERS frame: the smallest buffer
	if h := sp.Held(); h != sizeTiny {
		t.Fatalf("holding %d bytes after 10 written, want %d", h, sizeTiny)
	}
	if b, _, _ := sp.Slice(0, 10); len(b) != 10 {
		t.Fatalf("Slice = %d bytes", len(b))
	}
	sp.Write(make([]byte, 2000), 1<<20, 0) // grows to the mid size
	if h := sp.Held(); h != sizeMid+sizeTiny {
		t.Fatalf("holding %d bytes after growth, want %d (the new buffer and the one outgrown)", h, sizeMid+sizeTiny)
	}
	sp.Acked(2010)
	if h := sp.Held(); h != 0 || sp.data.c != nil {
		t.Fatalf("holding %d bytes (index %v) with everything acknowledged", h, sp.data.c)
	}
	sp.Write(make([]byte, 10), 1<<20, 0) // at offset 2010 in its chunk
	if h := sp.Held(); h != sizeMid {
		t.Fatalf("holding %d bytes after 10 more written, want %d", h, sizeMid)
	}
}

// An in-order acknowledgment advances the acknowledged prefix without
// keeping a range; one beyond a gap is kept until the gap is filled.
func TestSendStateAckInOrder(t *testing.T) {
	var s SendState
	s.Extend(300, true)
	if !s.OnAck(0, 100, false) || s.AckedBelow() != 100 || s.acked.Len() != 0 {
		t.Fatalf("in order: acked below %d, %d ranges kept", s.AckedBelow(), s.acked.Len())
	}
	if s.OnAck(200, 100, true) || s.AckedBelow() != 100 || s.acked.Len() != 1 {
		t.Fatalf("beyond a gap: acked below %d, %d ranges kept", s.AckedBelow(), s.acked.Len())
	}
	if !s.OnAck(100, 100, false) || s.AckedBelow() != 300 || s.acked.Len() != 0 {
		t.Fatalf("gap filled: acked below %d, %d ranges kept", s.AckedBelow(), s.acked.Len())
	}
}

// Bytes acknowledged twice (two copies were in flight: a PTO probe sent
// them again while their packet stayed in flight) keep no range below
// AckedBelow, which would stop it from ever moving again.
func TestSendStateAckTwice(t *testing.T) {
	var s SendState
	s.Extend(400, true)
	for range 4 {
		s.Next(100, 400)
	}
	s.OnAck(0, 100, false)
	s.OnAck(100, 100, false)
	if s.OnAck(0, 100, false) || s.OnAck(50, 100, false) || s.acked.Len() != 0 {
		t.Fatalf("again below %d: advanced or kept %v", s.AckedBelow(), s.acked.Ranges())
	}
	if s.OnAck(300, 100, true) || s.AckedBelow() != 200 {
		t.Fatalf("beyond a gap: acked below %d", s.AckedBelow())
	}
	// Straddling AckedBelow: the part above counts.
	if !s.OnAck(150, 150, false) || s.AckedBelow() != 400 || !s.AllAcked() {
		t.Fatalf("straddling: acked below %d, ranges %v", s.AckedBelow(), s.acked.Ranges())
	}
}

// A FIN sent again while the first was in flight (a PTO probe) is not
// sent once the first is acknowledged.
func TestSendStateFinAckedBeforeResend(t *testing.T) {
	var s SendState
	s.Extend(0, true)
	if _, _, fin, ok := s.Next(100, 100); !ok || !fin {
		t.Fatal("no FIN to send")
	}
	s.OnLost(0, 0, true)
	s.OnAck(0, 0, true)
	if s.HasData(100) {
		t.Fatal("the acknowledged FIN is to be sent again")
	}
	if !s.AllAcked() {
		t.Fatal("not all acknowledged")
	}
}

// A Write that found the buffer full is woken once acknowledgments free a
// quarter of it, not by each one: a bulk writer wakes to write large
// pieces. One that the peer's credit stopped is woken by any.
func TestSendPartWakeHysteresis(t *testing.T) {
	const maxHeld = 4000
	var sp SendPart
	sp.SetCredit(1 << 20)
	if n, st, _ := sp.Write(make([]byte, 5000), maxHeld, 0); n != maxHeld || st != Blocked {
		t.Fatalf("Write = %d, %v; want %d, Blocked", n, st, maxHeld)
	}
	if sp.Acked(500) {
		t.Fatal("woken with 3500 bytes held")
	}
	if !sp.Acked(1000) {
		t.Fatal("not woken with 3000 bytes held")
	}
	if sp.Acked(1500) {
		t.Fatal("woken again without waiting")
	}

	var cp SendPart
	cp.SetCredit(1000)
	if _, st, _ := cp.Write(make([]byte, 5000), maxHeld, 0); st != Blocked {
		t.Fatalf("Write beyond credit: %v, want Blocked", st)
	}
	if !cp.Acked(10) {
		t.Fatal("a Write stopped by credit not woken by an acknowledgment")
	}
}

// readToEOF reads rp into got, in reads of random sizes up to max bytes,
// until the end of the stream, yielding when nothing is there yet.
func readToEOF(rp *RecvPart, got *bytes.Buffer, max int) {
	buf := make([]byte, max)
	for {
		n, st, _, _ := rp.Read(buf[:1+rand.IntN(len(buf))])
		got.Write(buf[:n])
		if st == EOF {
			return
		}
		if st == Blocked {
			runtime.Gosched()
		}
	}
}

// TestRecvPartGrowthPools checks that a receive buffer that grows while no
// Read copies from it gives the smaller buffer back at once (room), and
// keeps it as the spare while a Read copies: the bytes stay valid for it.
func TestRecvPartGrowthPools(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 3000)
	var rp RecvPart
	rp.Init(64 << 10)
	for off := 0; off < len(data); off += 300 {
		if _, err := rp.Write(uint64(off), data[off:off+300], false); err != nil {
			t.Fatal(err)
		}
	}
	if rp.buf.data.spare != nil {
		t.Fatalf("spare of %d bytes kept with no Read copying", len(rp.buf.data.spare))
	}
	rp.reading = true // as a Read does while it copies outside the lock
	if _, err := rp.Write(uint64(len(data)), data[:2000], false); err != nil {
		t.Fatal(err)
	}
	if len(rp.buf.data.spare) != sizeMid {
		t.Fatalf("spare is %d bytes while a Read copies, want the %d-byte buffer that grew", len(rp.buf.data.spare), sizeMid)
	}
	rp.reading = false
	b := make([]byte, 8000)
	if n, st, _, _ := rp.Read(b); n != 5000 || st != OK || !bytes.Equal(b[:3000], data) {
		t.Fatalf("Read = %d, %v", n, st)
	}
	if rp.buf.data.spare != nil || rp.buf.data.c != nil {
		t.Fatal("storage kept after everything was read")
	}
}
