package qpack

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// blockedSetup returns a decoder with capacity set and a section for stream
// 4 that references the first insert (RIC 1, Base 0, post-base index 0),
// which has not arrived.
func blockedSetup(t *testing.T) (*Decoder, []byte) {
	d := newDecoder(4096, 2)
	if err := d.WriteEncoderStream(setCapacity(4096)); err != nil {
		t.Fatal(err)
	}
	// Encoded RIC 2 = RIC 1; sign bit set with delta 0 = Base 0.
	return d, []byte{0x02, 0x80, 0x10, 0xd1}
}

func TestBlockedSectionFuncVariant(t *testing.T) {
	d, sec := blockedSetup(t)
	called := false
	blocked, err := d.DecodeFieldSectionFunc(4, sec, func(n, v []byte, never bool) { called = true })
	if err != nil || !blocked || called {
		t.Fatalf("blocked=%v err=%v called=%v", blocked, err, called)
	}
	if ds := d.AppendDecoderStream(nil); len(ds) != 0 {
		t.Fatalf("decoder stream %x before decoding", ds)
	}
	if err := d.WriteEncoderStream(insertLiteral("x-a", "b")); err != nil {
		t.Fatal(err)
	}
	got := d.AppendUnblocked(nil)
	want := []HeaderField{{Name: "x-a", Value: "b"}, {Name: ":method", Value: "GET"}}
	if len(got) != 1 || got[0].StreamID != 4 || got[0].Err != nil || !slices.Equal(got[0].Fields, want) {
		t.Fatalf("unblocked %+v", got)
	}
	if d.BlockedStreams() != 0 || len(d.AppendUnblocked(nil)) != 0 {
		t.Fatal("section reported twice")
	}
	// Section Acknowledgment for stream 4; it covers the insert.
	if ds := d.AppendDecoderStream(nil); !bytes.Equal(ds, []byte{0x84}) {
		t.Fatalf("decoder stream %x, want 84", ds)
	}
}

func TestBlockedSectionsUnblockInOrder(t *testing.T) {
	d := newDecoder(4096, 3)
	_ = d.WriteEncoderStream(setCapacity(4096))
	// Stream 8 needs 2 inserts, stream 4 needs 1, stream 12 needs 2.
	for _, s := range []struct {
		id  uint64
		sec []byte
	}{{8, []byte{0x03, 0x81, 0x11}}, {4, []byte{0x02, 0x80, 0x10}}, {12, []byte{0x03, 0x81, 0x10, 0x11}}} {
		if _, blocked, err := d.DecodeFieldSection(s.id, s.sec, nil); !blocked || err != nil {
			t.Fatalf("stream %d: %v %v", s.id, blocked, err)
		}
	}
	if err := d.WriteEncoderStream(append(insertLiteral("a", "1"), insertLiteral("b", "2")...)); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, u := range d.AppendUnblocked(nil) {
		ids = append(ids, u.StreamID)
	}
	// Stream 4 unblocks at the first insert, 8 and 12 at the second, in
	// their arrival order.
	if !slices.Equal(ids, []uint64{4, 8, 12}) {
		t.Fatalf("unblocked %v", ids)
	}
}

func TestBlockedSectionErrors(t *testing.T) {
	// Too large once decoded: reported on the section, not the connection.
	d, sec := blockedSetup(t)
	d.SetMaxFieldSectionSize(40)
	if _, blocked, err := d.DecodeFieldSection(4, sec, nil); !blocked || err != nil {
		t.Fatal(blocked, err)
	}
	if err := d.WriteEncoderStream(insertLiteral("x-a", "b")); err != nil {
		t.Fatal(err)
	}
	if u := d.AppendUnblocked(nil); len(u) != 1 || !errors.Is(u[0].Err, ErrFieldSectionTooLarge) {
		t.Fatalf("unblocked %+v", u)
	}
	// An invalid line found when it unblocks is a connection error,
	// returned by the write that unblocked it.
	d, _ = blockedSetup(t)
	if _, blocked, err := d.DecodeFieldSection(4, []byte{0x02, 0x80, 0x10, 0xff, 0x7f}, nil); !blocked || err != nil {
		t.Fatal(blocked, err)
	}
	wantCode(t, "invalid static index in a held section", d.WriteEncoderStream(insertLiteral("x-a", "b")), ErrCodeDecompressionFailed)
}

func TestRequiredInsertCountTooLarge(t *testing.T) {
	// RIC 2 while the only reference is to absolute index 0 (RFC 9204
	// §2.2.1 allows refusing it, and we do).
	d := newDecoder(4096, 0)
	_ = d.WriteEncoderStream(append(setCapacity(4096), append(insertLiteral("a", "1"), insertLiteral("b", "2")...)...))
	_, _, err := d.DecodeFieldSection(0, []byte{0x03, 0x00, 0x81}, nil)
	wantCode(t, "RIC above the largest reference", err, ErrCodeDecompressionFailed)
	// And a reference at the Required Insert Count is an error too.
	d = newDecoder(4096, 0)
	_ = d.WriteEncoderStream(append(setCapacity(4096), append(insertLiteral("a", "1"), insertLiteral("b", "2")...)...))
	_, _, err = d.DecodeFieldSection(0, []byte{0x02, 0x00, 0x11}, nil)
	wantCode(t, "post-base reference at RIC", err, ErrCodeDecompressionFailed)
}

func TestCancelStream(t *testing.T) {
	d := newDecoder(0, 0)
	d.CancelStream(4)
	if ds := d.AppendDecoderStream(nil); len(ds) != 0 {
		t.Fatalf("capacity 0 decoder sent %x", ds)
	}
	d = newDecoder(4096, 0)
	d.CancelStream(4)
	if ds := d.AppendDecoderStream(nil); !bytes.Equal(ds, []byte{0x44}) {
		t.Fatalf("decoder stream %x, want 44", ds)
	}
}

func TestSetCapacityEvicts(t *testing.T) {
	d := newDecoder(4096, 0)
	in := setCapacity(4096)
	in = append(in, insertLiteral("a", "1")...)
	in = append(in, insertLiteral("b", "2")...)
	in = append(in, setCapacity(40)...)
	if err := d.WriteEncoderStream(in); err != nil {
		t.Fatal(err)
	}
	if d.TableSize() != 34 || d.TableCapacity() != 40 {
		t.Fatalf("size %d capacity %d", d.TableSize(), d.TableCapacity())
	}
	if _, ok := d.TableEntry(0); ok {
		t.Fatal("entry 0 not evicted")
	}
	if f, ok := d.TableEntry(1); !ok || f.Name != "b" {
		t.Fatalf("entry 1 = %v %v", f, ok)
	}
}

// TestEncoderStreamByteByByte feeds inserts with long strings one byte at a
// time, including Huffman-coded names, and checks the table.
func TestEncoderStreamByteByByte(t *testing.T) {
	name := "x-long-header-name-that-is-huffman-coded"
	value := string(bytes.Repeat([]byte("value "), 100))
	in := setCapacity(4096)
	in = appendString(in, 0x40, 5, name, true) // Insert With Literal Name, Huffman name
	in = appendString(in, 0, 7, value, false)
	in = append(in, 0xc0|5) // Insert With Name Reference: static cookie
	in = appendString(in, 0, 7, value, true)
	in = append(in, 0x01) // Duplicate of the first insert
	d := newDecoder(4096, 0)
	for i := range in {
		if err := d.WriteEncoderStream(in[i : i+1]); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	want := []HeaderField{{Name: name, Value: value}, {Name: "cookie", Value: value}, {Name: name, Value: value}}
	if d.InsertCount() != 3 {
		t.Fatalf("insert count %d", d.InsertCount())
	}
	for i, w := range want {
		if f, ok := d.TableEntry(uint64(i)); !ok || f != w {
			t.Fatalf("entry %d = %v", i, f)
		}
	}
}

// A section held as blocked and then canceled frees its place: 100 such
// streams against a limit of 16 blocked streams leave the decoder usable,
// and each produces a Stream Cancellation (RFC 9204 §4.4.2).
func TestCancelBlockedStreams(t *testing.T) {
	d := newDecoder(4096, 16)
	var want []byte
	for i := range uint64(100) {
		id := 4 * i
		// Required Insert Count 1 (encoded 2), Base 1, dynamic index 0.
		if _, blocked, err := d.DecodeFieldSection(id, []byte{0x02, 0x00, 0x80}, nil); err != nil || !blocked {
			t.Fatalf("stream %d: blocked %v, %v", id, blocked, err)
		}
		d.CancelStream(id)
		if n := d.BlockedStreams(); n != 0 {
			t.Fatalf("stream %d: %d blocked streams after CancelStream", id, n)
		}
		want = appendInteger(want, 0x40, 6, id)
	}
	if got := d.AppendDecoderStream(nil); !bytes.Equal(got, want) {
		t.Fatalf("decoder stream %x, want %x", got, want)
	}
	// The inserts arrive late: nothing is decoded for the canceled
	// streams, and a new section decodes.
	if err := d.WriteEncoderStream(append(setCapacity(4096), insertLiteral("a", "1")...)); err != nil {
		t.Fatal(err)
	}
	if u := d.AppendUnblocked(nil); len(u) != 0 {
		t.Fatalf("%d canceled sections decoded", len(u))
	}
	fields, blocked, err := d.DecodeFieldSection(400, []byte{0x02, 0x00, 0x80}, nil)
	if err != nil || blocked || len(fields) != 1 || fields[0].Name != "a" {
		t.Fatalf("section after the cancellations: %v %v %v", fields, blocked, err)
	}
}
