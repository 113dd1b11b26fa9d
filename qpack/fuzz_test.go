package qpack

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// fuzzDecoder is a decoder whose table holds a few entries, so that fuzzed
// sections can reference the dynamic table.
func fuzzDecoder(t *testing.T) *Decoder {
	d := newDecoder(256, 4)
	in := setCapacity(256)
	in = append(in, insertLiteral("x-a", "1")...)
	in = append(in, insertLiteral("x-b", "22")...)
	in = append(in, 0xc0|17) // :method GET... as a name reference with value:
	in = append(in, 4, 'P', 'O', 'S', 'T')
	if err := d.WriteEncoderStream(in); err != nil {
		t.Fatal(err)
	}
	return d
}

func FuzzDecodeSection(f *testing.F) {
	f.Add([]byte{0, 0, 0xd1, 0xd7})
	f.Add([]byte{0x04, 0x00, 0x80, 0x81, 0x82})
	f.Add([]byte{0x04, 0x83, 0x10, 0x11, 0x12})
	f.Add([]byte{0x05, 0x00, 0x80})
	f.Add(unhex(f, "0000 510b 2f69 6e64 6578 2e68 746d 6c"))
	f.Add([]byte{0, 0, 0x2b, 0x9b, 0xd9, 0xab, 0x81, 0x18})
	f.Add([]byte{0x04, 0x01, 0x40, 0x01, 'v', 0x08, 0x01, 'w'})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := fuzzDecoder(t)
		d.SetMaxFieldSectionSize(1 << 12)
		fields, blocked, err := d.DecodeFieldSection(4, b, nil)
		var qe *Error
		if err != nil && !errors.As(err, &qe) && !errors.Is(err, ErrFieldSectionTooLarge) {
			t.Fatalf("untyped error %v", err)
		}
		if blocked && (err != nil || len(fields) != 0) {
			t.Fatal("blocked with output")
		}
		// The callback variant must agree.
		d2 := fuzzDecoder(t)
		d2.SetMaxFieldSectionSize(1 << 12)
		var got []HeaderField
		blocked2, err2 := d2.DecodeFieldSectionFunc(4, b, func(n, v []byte, never bool) {
			got = append(got, HeaderField{string(n), string(v), never})
		})
		if blocked != blocked2 || (err == nil) != (err2 == nil) || (err == nil && !slices.Equal(fields, got)) {
			t.Fatalf("variants disagree: %v %v %v / %v %v %v", fields, blocked, err, got, blocked2, err2)
		}
		if blocked {
			// More inserts unblock it or the stream is cancelled; neither
			// may panic.
			_ = d.WriteEncoderStream(insertLiteral("y", "z"))
			d.AppendUnblocked(nil)
			d.CancelStream(4)
			d.AppendDecoderStream(nil)
		}
	})
}

func FuzzEncoderStream(f *testing.F) {
	f.Add(unhex(f, "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468"), uint8(5))
	f.Add(unhex(f, "3fbd01 4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565 00 810d 6375 7374 6f6d 2d76 616c 7565 32"), uint8(9))
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x00}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		// Whole, and split in two: the same outcome and the same table.
		whole := newDecoder(4096, 0)
		errWhole := whole.WriteEncoderStream(b)
		parts := newDecoder(4096, 0)
		cut := int(split) % (len(b) + 1)
		errParts := parts.WriteEncoderStream(b[:cut])
		if errParts == nil {
			errParts = parts.WriteEncoderStream(b[cut:])
		}
		var qe *Error
		if errWhole != nil && (!errors.As(errWhole, &qe) || qe.Code != ErrCodeEncoderStreamError) {
			t.Fatalf("error %v", errWhole)
		}
		if (errWhole == nil) != (errParts == nil) {
			t.Fatalf("whole: %v, split at %d: %v", errWhole, cut, errParts)
		}
		if errWhole != nil {
			return
		}
		if whole.TableSize() > whole.TableCapacity() || whole.TableCapacity() > 4096 {
			t.Fatalf("size %d, capacity %d", whole.TableSize(), whole.TableCapacity())
		}
		if whole.InsertCount() != parts.InsertCount() || whole.TableSize() != parts.TableSize() {
			t.Fatalf("tables differ: %d/%d vs %d/%d", whole.InsertCount(), whole.TableSize(), parts.InsertCount(), parts.TableSize())
		}
		for abs := range whole.InsertCount() {
			a, okA := whole.TableEntry(abs)
			b, okB := parts.TableEntry(abs)
			if a != b || okA != okB {
				t.Fatalf("entry %d differs", abs)
			}
		}
	})
}

func FuzzDecoderStream(f *testing.F) {
	f.Add([]byte{0x84}, uint8(0))
	f.Add([]byte{0x01, 0x48}, uint8(1))
	f.Add([]byte{0x00}, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		e := new(Encoder)
		e.SetPeerSettings(4096, 4)
		for i := range 3 {
			e.EncodeFieldSection(nil, uint64(4*i), typicalRequest)
		}
		cut := int(split) % (len(b) + 1)
		err := e.WriteDecoderStream(b[:cut])
		if err == nil {
			err = e.WriteDecoderStream(b[cut:])
		}
		var qe *Error
		if err != nil && (!errors.As(err, &qe) || qe.Code != ErrCodeDecoderStreamError) {
			t.Fatalf("error %v", err)
		}
		if e.KnownReceivedCount() > e.InsertCount() {
			t.Fatalf("known received %d > inserted %d", e.KnownReceivedCount(), e.InsertCount())
		}
		// The encoder keeps working.
		e.EncodeFieldSection(nil, 100, typicalResponse)
	})
}

// FuzzRoundTrip encodes fields made from the input with our encoder and
// decodes them with our decoder: the fields must come back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(":authority\x00example.com\x00x-a\x00b\x00cookie\x00c=d"), uint8(2), uint8(4))
	f.Add([]byte("a\x00b\x00a\x00b\x00a\x00c"), uint8(1), uint8(0))
	f.Add([]byte("\xff\x00\x80\x00:path\x00/"), uint8(3), uint8(1))
	f.Add([]byte(":method\x00GET\x00x-seven\x00v"), uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, capSel, blocked uint8) {
		parts := bytes.Split(b, []byte{0})
		var fields []HeaderField
		for i := 0; i+1 < len(parts); i += 2 {
			fields = append(fields, HeaderField{Name: string(parts[i]), Value: string(parts[i+1]), NeverIndex: len(parts[i]) == 7})
		}
		capacity := []uint64{0, 64, 256, 4096}[capSel%4]
		e := new(Encoder)
		e.SetPeerSettings(capacity, uint64(blocked%3))
		d := newDecoder(capacity, uint64(blocked%3))
		// Encode the list three times, acknowledging only the first.
		for round := range 3 {
			stream := uint64(4 * round)
			sec := e.EncodeFieldSection(nil, stream, fields)
			if err := d.WriteEncoderStream(e.AppendEncoderStream(nil)); err != nil {
				t.Fatalf("round %d: encoder stream: %v", round, err)
			}
			got, isBlocked, err := d.DecodeFieldSection(stream, sec, nil)
			if err != nil || isBlocked {
				t.Fatalf("round %d: blocked=%v err=%v", round, isBlocked, err)
			}
			if !slices.Equal(got, fields) {
				t.Fatalf("round %d:\ngot  %+v\nwant %+v", round, got, fields)
			}
			dec := d.AppendDecoderStream(nil)
			if round == 0 {
				if err := e.WriteDecoderStream(dec); err != nil {
					t.Fatalf("decoder stream: %v", err)
				}
			}
		}
	})
}

func FuzzHuffman(f *testing.F) {
	for _, ex := range huffmanExamples {
		f.Add(unhex(f, ex.coded))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		dec, err := appendHuffmanDecoded(nil, b)
		if err != nil {
			return
		}
		// A valid coding is canonical: re-encoding gives the same bytes.
		if enc := appendHuffmanEncoded(nil, string(dec)); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes to %q, which encodes to %x", b, dec, enc)
		}
	})
}
