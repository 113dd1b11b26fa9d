package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

// FuzzHeaderInto parses a packet (prev) into a Header and then another
// (cur) into the same Header, as the connection's receive path reuses one
// for every packet: the result, error included, must be exactly what
// ParseHeader gives for cur on a fresh Header, whatever prev left behind
// (a long header's SCID and Token, a Retry's tag, a Version Negotiation
// packet's list, a short header's lengths).
func FuzzHeaderInto(f *testing.F) {
	dcid := mustCID(f, "12345678")
	scid := mustCID(f, "source-cid-twenty-by")
	packets := [][]byte{
		buildLongPacket(f, &Header{Type: PacketInitial, Version: Version1, DCID: dcid, SCID: scid, Token: []byte("a token")}, 3, 2, 20),
		buildLongPacket(f, &Header{Type: PacketHandshake, Version: Version2, DCID: dcid}, 9, 1, 20),
		buildLongPacket(f, &Header{Type: Packet0RTT, Version: Version1, DCID: dcid, SCID: scid}, 1, 4, 30),
		AppendRetry(nil, Version1, dcid, scid, []byte("retry token")),
		AppendShortHeader(nil, &dcid, 77, 1, false, false),
		append(AppendShortHeader(nil, &dcid, 1<<20, 3, true, true), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
	}
	// A Retry needs its 16-byte tag after the token.
	packets[3] = append(packets[3], bytes.Repeat([]byte{0x5a}, 16)...)
	vn, _ := hex.DecodeString("c0000000000474657374047363696400000001ff00001d")
	packets = append(packets, vn)
	for i, prev := range packets {
		for j, cur := range packets {
			if i != j {
				f.Add(prev, cur, uint8(8))
			}
		}
	}
	f.Add(packets[0], packets[4][:5], uint8(8))            // a truncated short header after a long one
	f.Add(packets[3], packets[0][:10], uint8(0x88))        // a truncated long header after a Retry
	f.Add(vn, []byte{0x80, 0xff, 0, 0, 1, 0, 0}, uint8(4)) // an unsupported version after VN
	f.Fuzz(func(t *testing.T, prev, cur []byte, dcidLen uint8) {
		shortLen := int(dcidLen % 21)
		grease := dcidLen&0x80 != 0
		var h Header
		_ = ParseHeaderInto(&h, prev, shortLen, grease)
		err := ParseHeaderInto(&h, cur, shortLen, grease)
		want, wantErr := ParseHeader(cur, shortLen, grease)
		if !reflect.DeepEqual(h, want) || !sameError(err, wantErr) {
			t.Fatalf("after %x, parsing %x into the reused Header gave %+v, %v; fresh: %+v, %v", prev, cur, h, err, want, wantErr)
		}
		// The views into the packet point into cur, not into prev.
		for _, v := range [][]byte{h.Token, h.IntegrityTag} {
			if len(v) > 0 && !within(v, cur) {
				t.Fatalf("a field %x lies outside the packet parsed", v)
			}
		}
	})
}

// FuzzStreamFrameInto parses STREAM frame bodies into one reused
// StreamFrame, as the receive path does, and checks each against a
// reference parser written from RFC 9000 §19.8 and against ParseStreamFrame
// on a fresh frame: every field is overwritten, the zero frame is left on
// error, and the data is a view of the body that cannot be appended into
// the rest of the packet.
func FuzzStreamFrameInto(f *testing.F) {
	frames := []StreamFrame{
		{StreamID: 4, Offset: 1 << 20, Data: []byte("hello"), Fin: true},
		{StreamID: 0, Data: []byte("no offset")},
		{StreamID: 1<<62 - 1, Offset: 1<<62 - 6, Data: []byte("edge!")},
		{StreamID: 8, Offset: 9, Data: []byte("to the end"), NoLength: true},
		{StreamID: 12, Fin: true},
	}
	for _, fr := range frames {
		b := fr.Append(nil)
		f.Add(b, b[:len(b)-2])
	}
	over := StreamFrame{StreamID: 2, Offset: 1<<62 - 4, Data: []byte("beyond")}
	f.Add(over.Append(nil), []byte{0x0e, 0x01, 0x40})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var reused StreamFrame
		for _, in := range [][]byte{a, b} {
			if len(in) == 0 {
				continue
			}
			// The low three bits of the first byte choose the flags; the
			// rest is the body.
			typ := FrameTypeStream | FrameType(in[0]&7)
			body := in[1:]
			n, err := ParseStreamFrameInto(&reused, typ, body)
			fresh, fn, ferr := ParseStreamFrame(typ, body)
			if n != fn || !sameError(err, ferr) || !reflect.DeepEqual(reused, fresh) {
				t.Fatalf("type %x body %x: reused %+v, %d, %v; fresh %+v, %d, %v", typ, body, reused, n, err, fresh, fn, ferr)
			}
			want, wn, ok := refParseStream(typ, body)
			if !ok {
				if err == nil {
					t.Fatalf("type %x body %x: parsed %+v, the reference refuses it", typ, body, reused)
				}
				var te *TransportError
				if !errors.As(err, &te) || te.Code != FrameEncodingError {
					t.Fatalf("type %x body %x: error %v, want FRAME_ENCODING_ERROR", typ, body, err)
				}
				if !reflect.DeepEqual(reused, StreamFrame{}) {
					t.Fatalf("after an error: %+v, want the zero frame", reused)
				}
				continue
			}
			if err != nil || n != wn || reused.StreamID != want.StreamID || reused.Offset != want.Offset ||
				!bytes.Equal(reused.Data, want.Data) || reused.Fin != want.Fin || reused.NoLength != want.NoLength {
				t.Fatalf("type %x body %x: %+v, %d, %v; reference %+v, %d", typ, body, reused, n, err, want, wn)
			}
			if len(reused.Data) > 0 && (!within(reused.Data, body) || cap(reused.Data) != len(reused.Data)) {
				t.Fatalf("data %x (cap %d) is not a capped view of the body", reused.Data, cap(reused.Data))
			}
		}
	})
}

// refParseStream is a plain reading of RFC 9000 §19.8 and §16.
func refParseStream(t FrameType, b []byte) (StreamFrame, int, bool) {
	pos := 0
	varint := func() (uint64, bool) {
		if pos >= len(b) {
			return 0, false
		}
		l := 1 << (b[pos] >> 6)
		if pos+l > len(b) {
			return 0, false
		}
		v := uint64(b[pos] & 0x3f)
		for _, c := range b[pos+1 : pos+l] {
			v = v<<8 | uint64(c)
		}
		pos += l
		return v, true
	}
	var f StreamFrame
	var ok bool
	if f.StreamID, ok = varint(); !ok {
		return StreamFrame{}, 0, false
	}
	if t&0x04 != 0 {
		if f.Offset, ok = varint(); !ok {
			return StreamFrame{}, 0, false
		}
	}
	end := len(b)
	f.NoLength = t&0x02 == 0
	if !f.NoLength {
		l, ok := varint()
		if !ok || l > uint64(len(b)-pos) {
			return StreamFrame{}, 0, false
		}
		end = pos + int(l)
	}
	f.Data = b[pos:end]
	f.Fin = t&0x01 != 0
	if f.Offset+uint64(len(f.Data)) > 1<<62-1 {
		return StreamFrame{}, 0, false
	}
	return f, end, true
}

// sameError reports whether two errors say the same.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || a.Error() == b.Error()
}

// within reports whether v, not empty, lies inside b's memory.
func within(v, b []byte) bool {
	for i := range b {
		if &b[i] == &v[0] {
			return i+len(v) <= len(b)
		}
	}
	return false
}
