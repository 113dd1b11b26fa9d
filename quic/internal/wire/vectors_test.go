package wire

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

// readVectors returns the lines of testdata/vectors.txt whose first field is
// kind, split into fields.
func readVectors(t *testing.T, kind string) [][]string {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<16)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 0 && fields[0] == kind {
			out = append(out, fields[1:])
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no %q vectors", kind)
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseUint(t *testing.T, s string, base int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// RFC 9000 Appendix A.1.
func TestVarintAppendixA(t *testing.T) {
	for _, v := range readVectors(t, "varint") {
		enc := unhex(t, v[0])
		want := parseUint(t, v[1], 10)
		got, n, err := ParseVarint(enc)
		if err != nil || got != want || n != len(enc) {
			t.Errorf("ParseVarint(%s) = %d, %d, %v; want %d, %d", v[0], got, n, err, want, len(enc))
		}
		if got := AppendVarintLen(nil, want, len(enc)); hex.EncodeToString(got) != v[0] {
			t.Errorf("AppendVarintLen(%d, %d) = %x, want %s", want, len(enc), got, v[0])
		}
	}
}

// RFC 9000 Appendix A.2.
func TestPacketNumberLenAppendixA(t *testing.T) {
	for _, v := range readVectors(t, "pnlen") {
		acked := PacketNumber(parseUint(t, v[0], 16))
		pn := PacketNumber(parseUint(t, v[1], 16))
		want := int(parseUint(t, v[2], 10))
		if got := PacketNumberLen(pn, acked); got != want {
			t.Errorf("PacketNumberLen(%#x, %#x) = %d, want %d", pn, acked, got, want)
		}
	}
}

// RFC 9000 Appendix A.3.
func TestDecodePacketNumberAppendixA(t *testing.T) {
	for _, v := range readVectors(t, "pndecode") {
		largest := PacketNumber(parseUint(t, v[0], 16))
		truncated := parseUint(t, v[1], 16)
		bits := int(parseUint(t, v[2], 10))
		want := PacketNumber(parseUint(t, v[3], 16))
		if got := DecodePacketNumber(largest, truncated, bits/8); got != want {
			t.Errorf("DecodePacketNumber(%#x, %#x, %d) = %#x, want %#x", largest, truncated, bits/8, got, want)
		}
	}
}

// The unprotected headers of RFC 9001 and RFC 9369 Appendix A, padded to
// their Length, parse to the documented fields; rebuilding them gives the
// same bytes.
func TestHeaderVectors(t *testing.T) {
	for _, v := range readVectors(t, "header") {
		t.Run(v[0], func(t *testing.T) {
			version := Version(parseUint(t, v[1], 16))
			hdr := unhex(t, v[2])
			dcid, scid := unhex(t, v[4]), unhex(t, v[5])
			pnOff, pnLen := int(parseUint(t, v[6], 10)), int(parseUint(t, v[7], 10))
			pn, length := parseUint(t, v[8], 16), int(parseUint(t, v[9], 10))
			packet := append(append([]byte{}, hdr...), make([]byte, length-pnLen)...)
			h, err := ParseHeader(packet, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			if h.Type != PacketInitial || h.Version != version || string(h.DCID.Bytes()) != string(dcid) ||
				string(h.SCID.Bytes()) != string(scid) || len(h.Token) != 0 {
				t.Fatalf("header = %+v", h)
			}
			if h.PacketNumberOffset != pnOff || h.PacketLen != pnOff+length {
				t.Fatalf("pn offset %d, packet len %d; want %d, %d", h.PacketNumberOffset, h.PacketLen, pnOff, pnOff+length)
			}
			gotPN, gotLen, err := h.ParsePacketNumber(packet)
			if err != nil || gotPN != pn || gotLen != pnLen {
				t.Fatalf("ParsePacketNumber = %d, %d, %v", gotPN, gotLen, err)
			}
			if err := CheckReservedBits(packet[0]); err != nil {
				t.Fatal(err)
			}
			out, lenOff, gotPNOff := AppendLongHeader(nil, &h, PacketNumber(pn), pnLen)
			if err := PutLongHeaderLength(out, lenOff, length); err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(out) != v[2] || gotPNOff != pnOff {
				t.Fatalf("AppendLongHeader = %x (pn offset %d), want %s", out, gotPNOff, v[2])
			}
		})
	}
}

// The protected server Initial packets parse as a whole: only the packet
// number bits are still masked.
func TestProtectedPacketVectors(t *testing.T) {
	for _, v := range readVectors(t, "packet") {
		packet := unhex(t, v[1])
		h, err := ParseHeader(packet, 0, false)
		if err != nil {
			t.Fatalf("%s: %v", v[0], err)
		}
		if h.Type != PacketInitial || h.SCID.String() != "f067a5502a4262b5" || h.DCID.Len() != 0 ||
			h.PacketNumberOffset != 18 || h.PacketLen != len(packet) {
			t.Errorf("%s: header = %+v (len %d)", v[0], h, len(packet))
		}
	}
}

func TestRetryVectors(t *testing.T) {
	for _, v := range readVectors(t, "retry") {
		packet := unhex(t, v[1])
		h, err := ParseHeader(packet, 0, false)
		if err != nil {
			t.Fatalf("%s: %v", v[0], err)
		}
		if h.Type != PacketRetry || string(h.Token) != "token" || len(h.IntegrityTag) != 16 ||
			h.SCID.String() != "f067a5502a4262b5" || h.PacketLen != len(packet) {
			t.Fatalf("%s: header = %+v", v[0], h)
		}
		out := AppendRetry(nil, h.Version, h.DCID, h.SCID, h.Token)
		out = append(out, h.IntegrityTag...)
		if hex.EncodeToString(out) != v[1] {
			t.Errorf("%s: AppendRetry = %x", v[0], out)
		}
	}
}

func TestShortHeaderVector(t *testing.T) {
	v := readVectors(t, "short")[0]
	packet := append(unhex(t, v[0]), make([]byte, 20)...)
	full := PacketNumber(parseUint(t, v[1], 10))
	h, err := ParseHeader(packet, 0, false)
	if err != nil || h.Type != Packet1RTT || h.PacketNumberOffset != 1 || h.PacketLen != len(packet) {
		t.Fatalf("ParseHeader = %+v, %v", h, err)
	}
	trunc, n, err := h.ParsePacketNumber(packet)
	if err != nil || n != 3 {
		t.Fatalf("ParsePacketNumber = %#x, %d, %v", trunc, n, err)
	}
	if got := DecodePacketNumber(full-1, trunc, n); got != full {
		t.Errorf("DecodePacketNumber = %d, want %d", got, full)
	}
	out := AppendShortHeader(nil, &h.DCID, full, 3, false, false)
	if hex.EncodeToString(out) != v[0] {
		t.Errorf("AppendShortHeader = %x, want %s", out, v[0])
	}
}
