package protect

import (
	"bytes"
	"testing"
)

// TestDecodePacketNumber covers RFC 9000 Appendix A.3, starting with its
// example.
func TestDecodePacketNumber(t *testing.T) {
	for _, tc := range []struct {
		largest   int64
		truncated uint64
		pnLen     int
		want      uint64
	}{
		{0xa82f30ea, 0x9b32, 2, 0xa82f9b32}, // the RFC's example
		{-1, 0, 1, 0},                       // first packet
		{-1, 1, 4, 1},
		{-1, 0xff, 1, 0xff},
		{0xff, 0x00, 1, 0x100},  // wraps forward
		{0x100, 0xff, 1, 0xff},  // late packet from the previous window
		{0x17f, 0x00, 1, 0x200}, // 0x180 expected: 0x200 is within +128
		{0x17e, 0x00, 1, 0x100}, // 0x17f expected: 0x100 is closer than 0x200
		{0, 0x7fff, 2, 0x7fff},  // cannot go below zero
		{5, 0xfffffffe, 4, 0xfffffffe},
		{maxPacketNumber - 1, 0xff, 1, maxPacketNumber}, // top of the space
		{maxPacketNumber, 0x00, 1, maxPacketNumber - 0xff},
		{1 << 63 / 2, 0x00, 1, maxPacketNumber - 0xff}, // largest clamped
		{-100, 3, 1, 3},
		{10, 0x0b, 0, 0x0b}, // bad lengths are read as 4
	} {
		if got := DecodePacketNumber(tc.largest, tc.truncated, tc.pnLen); got != tc.want {
			t.Errorf("DecodePacketNumber(%#x, %#x, %d) = %#x, want %#x", tc.largest, tc.truncated, tc.pnLen, got, tc.want)
		}
	}
}

// TestDecodeEncodeAgree checks that every packet number within the window
// RFC 9000 §17.1 allows a sender decodes back to itself.
func TestDecodeEncodeAgree(t *testing.T) {
	for _, largest := range []int64{-1, 0, 1, 200, 0xfffe, 0x123456, 1 << 40} {
		for pnLen := 1; pnLen <= 4; pnLen++ {
			half := int64(1) << (8*pnLen - 1)
			for _, delta := range []int64{1, 2, half - 1, half} {
				pn := largest + delta
				mask := uint64(1)<<(8*pnLen) - 1
				if got := DecodePacketNumber(largest, uint64(pn)&mask, pnLen); got != uint64(pn) {
					t.Errorf("largest %d, pn %d in %d bytes: decoded %d", largest, pn, pnLen, got)
				}
			}
		}
	}
}

func testKeys(t testing.TB, suite Suite) *Keys {
	t.Helper()
	k, err := NewKeys(Version1, suite, testSecret(suite, 5))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealPacketErrors(t *testing.T) {
	k := testKeys(t, TLS_AES_128_GCM_SHA256)
	for _, tc := range []struct {
		name     string
		pkt      []byte
		spare    int
		pnOffset int
		want     error
	}{
		{"zero offset", []byte{0x40, 1, 2, 3, 4, 5}, TagLen, 0, ErrOffset},
		{"negative offset", []byte{0x40, 1, 2, 3, 4, 5}, TagLen, -3, ErrOffset},
		{"offset past end", []byte{0x40, 1, 2, 3, 4, 5}, TagLen, 9, ErrShortPacket},
		{"pn and payload under 4 bytes", []byte{0x40, 9, 1, 2}, TagLen, 1, ErrShortPacket},
		{"no room for tag", []byte{0x40, 1, 2, 3, 4, 5}, TagLen - 1, 1, ErrBufferTooSmall},
		{"empty", nil, TagLen, 1, ErrShortPacket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := append(make([]byte, 0, len(tc.pkt)+tc.spare), tc.pkt...)
			orig := bytes.Clone(buf)
			out, err := k.SealPacket(buf, tc.pnOffset, 1)
			if err != tc.want {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if out != nil {
				t.Error("output on error")
			}
			checkBytes(t, "packet after error", buf, orig)
		})
	}
	// The smallest packet that fits: a 1-byte packet number and 3 bytes
	// of payload (RFC 9001 §5.4.2).
	buf := append(make([]byte, 0, 32), 0x40, 7, 1, 0, 0)
	out, err := k.SealPacket(buf, 1, 7)
	if err != nil || len(out) != 5+TagLen {
		t.Fatalf("minimal packet: len %d, err %v", len(out), err)
	}
	if _, pn, err := k.OpenPacket(out, 1, 6); err != nil || pn != 7 {
		t.Errorf("minimal packet: pn %d, err %v", pn, err)
	}
}

func TestOpenErrors(t *testing.T) {
	k := testKeys(t, TLS_AES_256_GCM_SHA384)
	header := []byte{0x42, 0xa, 0xb, 0, 0, 3} // short header, 3-byte pn 3
	seal := func() []byte {
		buf := append(append(make([]byte, 0, 64), header...), "payload"...)
		out, err := k.SealPacket(buf, 3, 3)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sealed := seal()

	if _, _, err := k.UnprotectHeader(sealed, 0); err != ErrOffset {
		t.Errorf("offset 0: %v", err)
	}
	short := bytes.Clone(sealed[:3+4+SampleLen-1])
	if _, _, err := k.OpenPacket(short, 3, -1); err != ErrShortPacket {
		t.Errorf("one byte short of the sample: %v", err)
	}
	checkBytes(t, "short packet left alone", short, sealed[:len(short)])
	if _, _, err := k.UnprotectHeader(sealed, 1<<40); err != ErrShortPacket {
		t.Errorf("huge offset: %v", err)
	}
	if _, err := k.Open(sealed, 0, 3); err != ErrOffset {
		t.Errorf("Open, header length 0: %v", err)
	}
	if _, err := k.Open(sealed, len(sealed)+1, 3); err != ErrOffset {
		t.Errorf("Open, header past the end: %v", err)
	}
	if _, err := k.Open(sealed, len(sealed)-TagLen+1, 3); err != ErrShortPacket {
		t.Errorf("Open, no room for the tag: %v", err)
	}

	// Any flipped bit fails authentication: in the header (the associated
	// data, including the protected bits), the payload or the tag.
	for i := range sealed {
		pkt := seal()
		pkt[i] ^= 0x01
		if _, _, err := k.OpenPacket(pkt, 3, -1); err != ErrAuthentication {
			t.Errorf("bit flipped in byte %d: err = %v", i, err)
		}
	}
	// The wrong packet number (wrong nonce) fails too.
	pkt := seal()
	if _, _, err := k.UnprotectHeader(pkt, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(pkt, len(header), 3+1<<24); err != ErrAuthentication {
		t.Errorf("wrong packet number: %v", err)
	}
}

// TestHeaderProtectionBits checks which bits header protection covers
// (RFC 9001 §5.4.1): the low four bits of a long header's first byte and the
// low five of a short header's, and only the packet number's bytes after
// it.
func TestHeaderProtectionBits(t *testing.T) {
	for _, suite := range allSuites {
		k := testKeys(t, suite)
		for _, first := range []byte{0xc0, 0xc1, 0xe2, 0xd3, 0x40, 0x41, 0x46, 0x5b} {
			pnLen := int(first&3) + 1
			const pnOffset = 6
			header := []byte{first, 0x11, 0x22, 0x33, 0x44, 0x55, 1, 2, 3, 4}[:pnOffset+pnLen]
			buf := append(append(make([]byte, 0, 64), header...), "abcdefgh"...)
			sealed, err := k.SealPacket(buf, pnOffset, uint64(pnLen))
			if err != nil {
				t.Fatal(err)
			}
			keep := byte(0xe0)
			if first&0x80 != 0 {
				keep = 0xf0
			}
			if sealed[0]&keep != first&keep {
				t.Errorf("%v first byte %#x protected as %#x: bits outside %#x changed", suite, first, sealed[0], ^keep)
			}
			checkBytes(t, "bytes before the packet number", sealed[1:pnOffset], header[1:pnOffset])
			if _, _, err := k.UnprotectHeader(sealed, pnOffset); err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "unprotected header", sealed[:len(header)], header)
		}
	}
}

// TestSealAppendsIntoCapacity checks that the tag goes into the caller's
// buffer, after the payload, and that bytes beyond it are untouched.
func TestSealAppendsIntoCapacity(t *testing.T) {
	k := testKeys(t, TLS_CHACHA20_POLY1305_SHA256)
	backing := bytes.Repeat([]byte{0xee}, 100)
	pkt := append(backing[:0], 0x40, 0, 1, 2, 3, 4, 5, 6)
	sealed, err := k.SealPacket(pkt, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if &sealed[0] != &backing[0] || len(sealed) != 8+TagLen {
		t.Fatal("sealed packet is not the caller's buffer extended by the tag")
	}
	for i, b := range backing[len(sealed):] {
		if b != 0xee {
			t.Fatalf("byte %d past the tag overwritten", len(sealed)+i)
		}
	}
}

// TestSealPacketFrom: sealing a payload that lies elsewhere gives the
// packet SealPacket gives in place, for every suite, leaves the plaintext
// alone and allocates nothing; a header that does not end at the packet
// number, or too little room, is refused.
func TestSealPacketFrom(t *testing.T) {
	for _, suite := range allSuites {
		t.Run(suite.String(), func(t *testing.T) {
			k := testKeys(t, suite)
			header, payload := oneRTTPacket()
			want, err := k.SealPacket(append(append(make([]byte, 0, len(header)+len(payload)+TagLen), header...), payload...), 1+benchDCIDLen, 0x1234)
			if err != nil {
				t.Fatal(err)
			}
			plain := bytes.Clone(payload)
			buf := make([]byte, 0, len(header)+len(payload)+TagLen)
			var got []byte
			allocs := testing.AllocsPerRun(10, func() {
				if got, err = k.SealPacketFrom(append(buf[:0], header...), 1+benchDCIDLen, 0x1234, plain); err != nil {
					t.Fatal(err)
				}
			})
			checkBytes(t, "sealed from elsewhere", got, want)
			checkBytes(t, "plaintext after sealing", plain, payload)
			if allocs != 0 {
				t.Errorf("%v allocations, want 0", allocs)
			}
			if _, err := k.SealPacketFrom(append(buf[:0], header[:len(header)-1]...), 1+benchDCIDLen, 1, plain); err != ErrOffset {
				t.Errorf("short header: err %v, want %v", err, ErrOffset)
			}
			small := make([]byte, 0, len(header)+len(payload)+TagLen-1)
			if _, err := k.SealPacketFrom(append(small, header...), 1+benchDCIDLen, 1, plain); err != ErrBufferTooSmall {
				t.Errorf("no room: err %v, want %v", err, ErrBufferTooSmall)
			}
		})
	}
}

// TestZeroAllocs guards the packet path: sealing and opening a packet with
// header protection allocates nothing, for every suite.
func TestZeroAllocs(t *testing.T) {
	for _, suite := range allSuites {
		t.Run(suite.String(), func(t *testing.T) {
			sender, receiver := testKeys(t, suite), testKeys(t, suite)
			header, payload := oneRTTPacket()
			buf := make([]byte, 0, len(header)+len(payload)+TagLen)
			var sealed []byte
			sealAllocs := testing.AllocsPerRun(100, func() {
				buf = append(append(buf[:0], header...), payload...)
				var err error
				if sealed, err = sender.SealPacket(buf, 1+benchDCIDLen, 0x1234); err != nil {
					t.Fatal(err)
				}
			})
			protected := bytes.Clone(sealed)
			pkt := make([]byte, len(protected))
			openAllocs := testing.AllocsPerRun(100, func() {
				copy(pkt, protected)
				if _, _, err := receiver.OpenPacket(pkt, 1+benchDCIDLen, 0x1200); err != nil {
					t.Fatal(err)
				}
			})
			if sealAllocs != 0 || openAllocs != 0 {
				t.Errorf("allocations per packet: seal %v, open %v; want 0", sealAllocs, openAllocs)
			}
		})
	}
	t.Run("retry", func(t *testing.T) {
		retry := append([]byte{0xf0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4}, bytes.Repeat([]byte{'t'}, 40)...)
		tag, err := RetryIntegrityTag(Version1, appendixDCID, retry)
		if err != nil {
			t.Fatal(err)
		}
		packet := append(retry, tag[:]...)
		allocs := testing.AllocsPerRun(100, func() {
			if err := VerifyRetryIntegrity(Version1, appendixDCID, packet); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("VerifyRetryIntegrity allocates %v times", allocs)
		}
	})
}

// benchDCIDLen is the Destination Connection ID length of the 1-RTT packets
// in benchmarks and allocation tests.
const benchDCIDLen = 8

// oneRTTPacket returns the unprotected header and payload of a 1452-byte
// (once sealed) 1-RTT packet: a short header with an 8-byte DCID and a
// 2-byte packet number.
func oneRTTPacket() (header, payload []byte) {
	header = []byte{0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x34}
	payload = make([]byte, 1452-len(header)-TagLen)
	for i := range payload {
		payload[i] = byte(i)
	}
	return header, payload
}
