package qpack

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func newDecoder(capacity, blocked uint64) *Decoder {
	d := new(Decoder)
	d.SetMaxTableCapacity(capacity)
	d.SetMaxBlockedStreams(blocked)
	return d
}

func wantCode(t *testing.T, what string, err error, code ErrorCode) {
	t.Helper()
	if !isCode(err, code) {
		t.Errorf("%s: err = %v, want %v", what, err, code)
	}
}

// encoderStream builds encoder stream bytes from instruction pieces.
func setCapacity(c uint64) []byte { return appendInteger(nil, 0x20, 5, c) }

func insertLiteral(name, value string) []byte {
	b := appendString(nil, 0x40, 5, name, false)
	return appendString(b, 0, 7, value, false)
}

func TestInvalidStaticIndex(t *testing.T) {
	// h3spec case 47, RFC 9204 §3.1: index 99 in an indexed field line.
	d := newDecoder(0, 0)
	_, _, err := d.DecodeFieldSection(0, appendInteger([]byte{0, 0}, 0xc0, 6, 99), nil)
	wantCode(t, "indexed field line", err, ErrCodeDecompressionFailed)
	// ...in a literal with name reference.
	d = newDecoder(0, 0)
	_, _, err = d.DecodeFieldSection(0, append(appendInteger([]byte{0, 0}, 0x50, 4, 200), 0), nil)
	wantCode(t, "literal with name reference", err, ErrCodeDecompressionFailed)
	// ...on the encoder stream it is an encoder stream error.
	d = newDecoder(4096, 0)
	err = d.WriteEncoderStream(append(setCapacity(4096), append(appendInteger(nil, 0xc0, 6, 99), 0)...))
	wantCode(t, "insert with name reference", err, ErrCodeEncoderStreamError)
	// The error is sticky: the connection is dead.
	wantCode(t, "after the error", d.WriteEncoderStream(setCapacity(0)), ErrCodeEncoderStreamError)
}

func TestInsertBeyondCapacity(t *testing.T) {
	// RFC 9204 §3.2.2: an entry larger than the capacity.
	d := newDecoder(4096, 0)
	err := d.WriteEncoderStream(append(setCapacity(100), insertLiteral("name", string(make([]byte, 65)))...))
	wantCode(t, "literal name insert of 101 bytes into 100", err, ErrCodeEncoderStreamError)
	// Just fitting is fine.
	d = newDecoder(4096, 0)
	if err := d.WriteEncoderStream(append(setCapacity(100), insertLiteral("name", string(make([]byte, 64)))...)); err != nil {
		t.Fatalf("insert of exactly the capacity: %v", err)
	}
	// Before any Set Dynamic Table Capacity the capacity is 0 (§3.2.3).
	d = newDecoder(4096, 0)
	wantCode(t, "insert at capacity 0", d.WriteEncoderStream(insertLiteral("a", "b")), ErrCodeEncoderStreamError)
	// A declared length beyond the capacity fails before its bytes arrive.
	d = newDecoder(4096, 0)
	huge := append(setCapacity(4096), appendInteger([]byte{0xc0}, 0, 7, 1<<40)...)
	wantCode(t, "huge value length", d.WriteEncoderStream(huge), ErrCodeEncoderStreamError)
}

func TestCapacityAboveMaximum(t *testing.T) {
	// h3spec case 48, RFC 9204 §4.3.1.
	d := newDecoder(256, 0)
	wantCode(t, "capacity 257 > 256", d.WriteEncoderStream(setCapacity(257)), ErrCodeEncoderStreamError)
	d = newDecoder(0, 0)
	wantCode(t, "capacity 1 > 0", d.WriteEncoderStream(setCapacity(1)), ErrCodeEncoderStreamError)
}

func TestDuplicateOfEvictedEntry(t *testing.T) {
	d := newDecoder(4096, 0)
	in := setCapacity(67) // room for one 34-byte entry
	in = append(in, insertLiteral("a", "1")...)
	in = append(in, insertLiteral("b", "2")...) // evicts a
	if err := d.WriteEncoderStream(in); err != nil {
		t.Fatal(err)
	}
	if d.InsertCount() != 2 || d.TableSize() != 34 {
		t.Fatalf("insert count %d, size %d", d.InsertCount(), d.TableSize())
	}
	// Duplicate relative index 1 = absolute 0, evicted.
	wantCode(t, "duplicate of evicted", d.WriteEncoderStream([]byte{0x01}), ErrCodeEncoderStreamError)
	// A name reference to it and a never-inserted entry fail the same way.
	d = newDecoder(4096, 0)
	_ = d.WriteEncoderStream(in)
	wantCode(t, "name reference to evicted", d.WriteEncoderStream([]byte{0x81, 0}), ErrCodeEncoderStreamError)
	d = newDecoder(4096, 0)
	_ = d.WriteEncoderStream(in)
	wantCode(t, "duplicate of a future entry", d.WriteEncoderStream([]byte{0x05}), ErrCodeEncoderStreamError)
	// And a field line referencing it is a decompression failure.
	d = newDecoder(4096, 0)
	_ = d.WriteEncoderStream(in)
	// RIC 2 (encoded 3 with MaxEntries 128), Base 2, relative index 1 = abs 0.
	_, _, err := d.DecodeFieldSection(0, []byte{0x03, 0x00, 0x81}, nil)
	wantCode(t, "field line referencing evicted", err, ErrCodeDecompressionFailed)
}

func TestInsertCountIncrementZero(t *testing.T) {
	// h3spec case 50, RFC 9204 §4.4.3.
	var e Encoder
	wantCode(t, "increment 0", e.WriteDecoderStream([]byte{0x00}), ErrCodeDecoderStreamError)
	// An increment beyond what was inserted.
	e = Encoder{}
	wantCode(t, "increment beyond inserts", e.WriteDecoderStream([]byte{0x01}), ErrCodeDecoderStreamError)
	// A Section Acknowledgment for a stream with nothing outstanding.
	e = Encoder{}
	wantCode(t, "ack of unknown stream", e.WriteDecoderStream([]byte{0x84}), ErrCodeDecoderStreamError)
}

func TestRequiredInsertCountUnreachable(t *testing.T) {
	// MaxEntries = 256/32 = 8, FullRange = 16: an encoded value above 16
	// cannot come from a conformant encoder (RFC 9204 §4.5.1.1).
	d := newDecoder(256, 100)
	_, _, err := d.DecodeFieldSection(0, []byte{17, 0}, nil)
	wantCode(t, "encoded 17 > FullRange", err, ErrCodeDecompressionFailed)
	// With a maximum capacity of 0 any non-zero value is invalid.
	d = newDecoder(0, 100)
	_, _, err = d.DecodeFieldSection(0, []byte{1, 0}, nil)
	wantCode(t, "non-zero with no dynamic table", err, ErrCodeDecompressionFailed)
	// Encoded 1 with no inserts decodes to RIC 0... which is invalid.
	d = newDecoder(256, 100)
	_, _, err = d.DecodeFieldSection(0, []byte{1, 0}, nil)
	wantCode(t, "RIC wraps to 0", err, ErrCodeDecompressionFailed)
	// A negative Base.
	d = newDecoder(256, 100)
	_, _, err = d.DecodeFieldSection(0, []byte{2, 0x81}, nil)
	wantCode(t, "negative Base", err, ErrCodeDecompressionFailed)
}

func TestBlockedStreamsLimit(t *testing.T) {
	d := newDecoder(256, 1)
	// RIC 1 (encoded 2), Base 1, relative 0: blocked, no inserts yet.
	sec := []byte{0x02, 0x00, 0x80}
	if _, blocked, err := d.DecodeFieldSection(4, sec, nil); !blocked || err != nil {
		t.Fatalf("first: blocked=%v err=%v", blocked, err)
	}
	_, _, err := d.DecodeFieldSection(8, sec, nil)
	wantCode(t, "second blocked stream with a limit of 1", err, ErrCodeDecompressionFailed)
	// With a limit of 0, no stream may block.
	d = newDecoder(256, 0)
	_, _, err = d.DecodeFieldSection(4, sec, nil)
	wantCode(t, "blocked stream with a limit of 0", err, ErrCodeDecompressionFailed)
}

func TestOverlongIntegers(t *testing.T) {
	long := []byte{0xff}
	for i := 0; i < 10; i++ {
		long = append(long, 0xff)
	}
	long = append(long, 0x01)
	if _, _, err := readInteger(long, 8); !isCode(err, ErrCodeDecompressionFailed) {
		t.Errorf("readInteger: %v", err)
	}
	// 2^62 exactly is one too many.
	if _, _, err := readInteger(appendInteger(nil, 0, 8, 1<<62), 8); err == nil {
		t.Error("2^62 accepted")
	}
	if v, _, err := readInteger(appendInteger(nil, 0, 8, maxInteger), 8); err != nil || v != maxInteger {
		t.Errorf("2^62-1: %d %v", v, err)
	}
	d := newDecoder(256, 100)
	_, _, err := d.DecodeFieldSection(0, long, nil)
	wantCode(t, "in a section prefix", err, ErrCodeDecompressionFailed)
	d = newDecoder(256, 100)
	wantCode(t, "on the encoder stream", d.WriteEncoderStream(append([]byte{0x3f}, long[1:]...)), ErrCodeEncoderStreamError)
	var e Encoder
	wantCode(t, "on the decoder stream", e.WriteDecoderStream(long), ErrCodeDecoderStreamError)
}

func TestHuffmanErrorsInSections(t *testing.T) {
	// Literal with static name reference (:path), Huffman value with EOS.
	d := newDecoder(0, 0)
	_, _, err := d.DecodeFieldSection(0, []byte{0, 0, 0x51, 0x84, 0xff, 0xff, 0xff, 0xff}, nil)
	wantCode(t, "EOS", err, ErrCodeDecompressionFailed)
	d = newDecoder(0, 0)
	_, _, err = d.DecodeFieldSection(0, []byte{0, 0, 0x51, 0x81, 0x18}, nil)
	wantCode(t, "zero padding", err, ErrCodeDecompressionFailed)
	d = newDecoder(4096, 0)
	err = d.WriteEncoderStream(append(setCapacity(4096), 0xc0, 0x82, 0x1f, 0xff))
	wantCode(t, "long padding on the encoder stream", err, ErrCodeEncoderStreamError)
}

func TestTruncatedSection(t *testing.T) {
	for _, sec := range [][]byte{{}, {0}, {0, 0, 0x51}, {0, 0, 0x51, 0x05, 'a'}, {0, 0, 0x23, 'a'}} {
		d := newDecoder(0, 0)
		_, _, err := d.DecodeFieldSection(0, sec, nil)
		wantCode(t, "truncated", err, ErrCodeDecompressionFailed)
	}
}

func TestFieldSectionTooLarge(t *testing.T) {
	var e Encoder
	fields := []HeaderField{{Name: ":method", Value: "GET"}, {Name: "x-big", Value: string(make([]byte, 100))}}
	sec := e.EncodeFieldSection(nil, 0, fields)
	d := newDecoder(0, 0)
	d.SetMaxFieldSectionSize(fields[0].Size() + fields[1].Size() - 1)
	if _, _, err := d.DecodeFieldSection(0, sec, nil); !errors.Is(err, ErrFieldSectionTooLarge) {
		t.Fatalf("err = %v", err)
	}
	// Not a connection error: the next section decodes.
	d.SetMaxFieldSectionSize(fields[0].Size() + fields[1].Size())
	got, _, err := d.DecodeFieldSection(4, sec, nil)
	if err != nil || len(got) != 2 || got[1] != fields[1] {
		t.Fatalf("at the limit: %v %v", got, err)
	}
}

// TestPartialStreams feeds the encoder and decoder streams one byte at a
// time.
func TestPartialStreams(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(4096, 10)
	d := newDecoder(4096, 10)
	fields := []HeaderField{
		{Name: ":authority", Value: "example.com"},
		{Name: "user-agent", Value: "skiff/1 with a rather long product token"},
		{Name: "cookie", Value: "a=b; c=d"},
		{Name: "x-custom", Value: "v"},
	}
	for i := 0; i < 3; i++ {
		stream := uint64(4 * i)
		sec := e.EncodeFieldSection(nil, stream, fields)
		enc := e.AppendEncoderStream(nil)
		// x-custom is inserted the second time it is seen; by the third
		// section everything is in the table.
		if i == 2 && len(enc) != 0 {
			t.Fatalf("section %d inserted again: %x", i, enc)
		}
		// The section first: it blocks until the last encoder stream byte.
		got, blocked, err := d.DecodeFieldSection(stream, sec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > 0 != blocked {
			t.Fatalf("section %d: blocked=%v with %d encoder stream bytes", i, blocked, len(enc))
		}
		for j := range enc {
			if err := d.WriteEncoderStream(enc[j : j+1]); err != nil {
				t.Fatal(err)
			}
			if u := d.AppendUnblocked(nil); len(u) > 0 {
				if j != len(enc)-1 {
					t.Fatalf("unblocked after byte %d of %d", j, len(enc))
				}
				got = u[0].Fields
			}
		}
		if len(got) != len(fields) {
			t.Fatalf("section %d: got %v", i, got)
		}
		for j := range fields {
			if got[j] != fields[j] {
				t.Fatalf("section %d field %d: %v", i, j, got[j])
			}
		}
		for _, c := range d.AppendDecoderStream(nil) {
			if err := e.WriteDecoderStream([]byte{c}); err != nil {
				t.Fatal(err)
			}
		}
		if e.KnownReceivedCount() != e.InsertCount() {
			t.Fatalf("known received %d, inserted %d", e.KnownReceivedCount(), e.InsertCount())
		}
	}
}

// TestEncoderNeverEvictsReferenced fills a small table while the decoder
// acknowledges nothing: entries referenced by unacknowledged sections must
// survive, so the encoder falls back to literals, and the decoder (which
// holds the same table) never sees a reference to an evicted entry.
func TestEncoderNeverEvictsReferenced(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(256, 100)
	d := newDecoder(256, 100)
	for i := 0; i < 50; i++ {
		f := []HeaderField{{Name: ":authority", Value: "host" + string(rune('a'+i%26)) + ".example"}}
		sec := e.EncodeFieldSection(nil, uint64(4*i), f)
		if err := d.WriteEncoderStream(e.AppendEncoderStream(nil)); err != nil {
			t.Fatal(err)
		}
		got, _, err := d.DecodeFieldSection(uint64(4*i), sec, nil)
		if err != nil || len(got) != 1 || got[0] != f[0] {
			t.Fatalf("section %d: %v %v", i, got, err)
		}
		for _, r := range e.unacked {
			for _, abs := range r.refs {
				if !e.table.has(abs) {
					t.Fatalf("entry %d referenced by unacknowledged stream %d was evicted", abs, r.streamID)
				}
			}
		}
	}
	// Cancelling every stream releases everything.
	for i := 0; i < 50; i++ {
		d.CancelStream(uint64(4 * i))
	}
	if err := e.WriteDecoderStream(d.AppendDecoderStream(nil)); err != nil {
		t.Fatal(err)
	}
	if len(e.unacked) != 0 {
		t.Fatalf("%d sections still unacknowledged", len(e.unacked))
	}
}

func TestStaticOnlyEncoder(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(4096, 100)
	e.SetMaxTableCapacity(0)
	fields := []HeaderField{{Name: ":authority", Value: "example.com"}, {Name: "x", Value: "y"}}
	for i := 0; i < 3; i++ {
		sec := e.EncodeFieldSection(nil, 0, fields)
		if sec[0] != 0 || sec[1] != 0 {
			t.Fatalf("section prefix %x, want Required Insert Count 0", sec[:2])
		}
	}
	if enc := e.AppendEncoderStream(nil); len(enc) != 0 {
		t.Fatalf("encoder stream %x", enc)
	}
}

func TestNeverIndex(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(4096, 100)
	d := newDecoder(4096, 100)
	f := []HeaderField{
		{Name: "authorization", Value: "secret", NeverIndex: true},
		{Name: "x-secret", Value: "s", NeverIndex: true},
		{Name: ":method", Value: "GET", NeverIndex: true}, // even a static match stays a literal
	}
	for i := 0; i < 2; i++ {
		sec := e.EncodeFieldSection(nil, 0, f)
		if enc := e.AppendEncoderStream(nil); len(enc) != 0 {
			t.Fatalf("never-indexed field inserted: %x", enc)
		}
		got, _, err := d.DecodeFieldSection(0, sec, nil)
		if err != nil || !slices.Equal(got, f) {
			t.Fatalf("%v %v", got, err)
		}
	}
}

// TestDuplicateDrainingEntry: an entry among the oldest quarter of a table
// more than half full is draining; when it is wanted again the encoder
// re-inserts it with Duplicate (RFC 9204 §4.3.4) and references the copy,
// leaving the original free to be evicted.
func TestDuplicateDrainingEntry(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(256, 100)
	d := newDecoder(256, 100)
	authority := HeaderField{Name: ":authority", Value: "example.com"} // 53 bytes
	first := []HeaderField{
		authority,
		{Name: "user-agent", Value: "a user agent of forty bytes, give or tak"}, // 82
		{Name: "cookie", Value: "twenty bytes cookie!"},                         // 58
	}
	exchange := func(stream uint64, fields []HeaderField) []byte {
		t.Helper()
		sec := e.EncodeFieldSection(nil, stream, fields)
		enc := e.AppendEncoderStream(nil)
		if err := d.WriteEncoderStream(enc); err != nil {
			t.Fatal(err)
		}
		got, _, err := d.DecodeFieldSection(stream, sec, nil)
		if err != nil || !slices.Equal(got, fields) {
			t.Fatalf("stream %d: %v %v", stream, got, err)
		}
		if err := e.WriteDecoderStream(d.AppendDecoderStream(nil)); err != nil {
			t.Fatal(err)
		}
		return enc
	}
	exchange(0, first)
	if e.TableSize() != 193 || !e.draining(0) {
		t.Fatalf("table size %d, entry 0 draining %v", e.TableSize(), e.draining(0))
	}
	if enc := exchange(4, []HeaderField{authority}); !bytes.Equal(enc, []byte{0x02}) {
		t.Fatalf("encoder stream %x, want a Duplicate of relative index 2 (02)", enc)
	}
	if f, ok := d.TableEntry(3); !ok || f != authority {
		t.Fatalf("decoder entry 3 = %v %v", f, ok)
	}
}

// TestUnacknowledgedSectionsBounded: a peer that never acknowledges
// sections cannot make the encoder keep an unbounded number of section
// records; past the bound it stops referencing the dynamic table.
func TestUnacknowledgedSectionsBounded(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(4096, 100)
	d := newDecoder(4096, 100)
	fields := []HeaderField{{Name: ":authority", Value: "example.com"}}
	for i := 0; i < maxUnackedSections+10; i++ {
		sec := e.EncodeFieldSection(nil, uint64(4*i), fields)
		if err := d.WriteEncoderStream(e.AppendEncoderStream(nil)); err != nil {
			t.Fatal(err)
		}
		if got, _, err := d.DecodeFieldSection(uint64(4*i), sec, nil); err != nil || !slices.Equal(got, fields) {
			t.Fatalf("section %d: %v %v", i, got, err)
		}
		if i == 0 {
			// Only the inserts are acknowledged, never a section.
			if err := e.WriteDecoderStream(appendInteger(nil, 0, 6, e.InsertCount())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(e.unacked) != maxUnackedSections {
		t.Fatalf("%d unacknowledged sections kept, want %d", len(e.unacked), maxUnackedSections)
	}
}

// TestEncoderCapacityFixedOnceSent: raising the limit after the capacity was
// sent must not make the encoder insert beyond what the decoder was told.
func TestEncoderCapacityFixedOnceSent(t *testing.T) {
	e := new(Encoder)
	e.SetPeerSettings(4096, 100)
	e.SetMaxTableCapacity(200)
	d := newDecoder(4096, 100)
	// 72 bytes: inserted, which sends the capacity.
	sec := e.EncodeFieldSection(nil, 0, []HeaderField{{Name: ":authority", Value: string(bytes.Repeat([]byte("a"), 30))}})
	e.SetMaxTableCapacity(4096)
	// 192 bytes: too large for a table of 200 (and would not fit beside the
	// first entry), fine for one of 4096.
	sec2 := e.EncodeFieldSection(nil, 4, []HeaderField{{Name: ":authority", Value: string(bytes.Repeat([]byte("b"), 150))}})
	if err := d.WriteEncoderStream(e.AppendEncoderStream(nil)); err != nil {
		t.Fatalf("decoder: %v", err)
	}
	for i, s := range [][]byte{sec, sec2} {
		if _, _, err := d.DecodeFieldSection(uint64(4*i), s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if e.InsertCount() != 1 || d.TableCapacity() != 200 || e.TableSize() > 200 {
		t.Fatalf("%d inserts, capacity %d, encoder table %d", e.InsertCount(), d.TableCapacity(), e.TableSize())
	}
}

// TestEncoderUnackedWindow: a hundred sections in flight, acknowledged in
// order as requests finish, for many times that: every acknowledgment
// finds its section, the records keep their order, and their memory stays
// within a small multiple of the window instead of growing.
func TestEncoderUnackedWindow(t *testing.T) {
	const window, total = 100, 5000
	e := new(Encoder)
	e.SetPeerSettings(4096, 100)
	d := newDecoder(4096, 100)
	f := []HeaderField{{Name: ":authority", Value: "example.com"}, {Name: "user-agent", Value: "skiff"}}
	var acks [][]byte // the decoder stream after each section, delivered window sections later
	most := 0
	for i := range total + window {
		if i < total {
			id := uint64(4 * i)
			sec := e.EncodeFieldSection(nil, id, f)
			if err := d.WriteEncoderStream(e.AppendEncoderStream(nil)); err != nil {
				t.Fatal(err)
			}
			if got, _, err := d.DecodeFieldSection(id, sec, nil); err != nil || len(got) != 2 {
				t.Fatalf("section %d: %v %v", i, got, err)
			}
			acks = append(acks, d.AppendDecoderStream(nil))
		}
		if i >= window {
			if err := e.WriteDecoderStream(acks[i-window]); err != nil {
				t.Fatalf("acknowledgment %d: %v", i-window, err)
			}
		}
		most = max(most, len(e.unacked))
		for j := 1; j < len(e.unacked); j++ {
			if e.unacked[j].streamID <= e.unacked[j-1].streamID {
				t.Fatalf("unacknowledged sections out of order at %d", j)
			}
		}
	}
	if len(e.unacked) != 0 || most < window {
		t.Fatalf("%d sections unacknowledged at the end, at most %d in flight (want 0, %d)", len(e.unacked), most, window)
	}
	if c := cap(e.unackedMem); c > 4*window {
		t.Fatalf("records' memory grew to %d for a window of %d", c, window)
	}
}
