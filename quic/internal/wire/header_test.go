package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func mustCID(t testing.TB, s string) ConnectionID {
	t.Helper()
	c, err := MakeConnectionID([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// buildLongPacket builds a long header packet with payloadLen payload bytes
// (standing for ciphertext and tag).
func buildLongPacket(t testing.TB, h *Header, pn PacketNumber, pnLen, payloadLen int) []byte {
	t.Helper()
	b, lenOff, pnOff := AppendLongHeader(nil, h, pn, pnLen)
	if pnOff != lenOff+LongHeaderLengthFieldLen {
		t.Fatalf("pn offset %d, length offset %d", pnOff, lenOff)
	}
	b = append(b, bytes.Repeat([]byte{0xaa}, payloadLen)...)
	if err := PutLongHeaderLength(b, lenOff, pnLen+payloadLen); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLongHeaderRoundTrip(t *testing.T) {
	for _, v := range []Version{Version1, Version2} {
		for _, typ := range []PacketType{PacketInitial, Packet0RTT, PacketHandshake} {
			for _, pnLen := range []int{1, 2, 3, 4} {
				in := Header{Type: typ, Version: v, DCID: mustCID(t, "destination-cid-20by"), SCID: mustCID(t, "")}
				if typ == PacketInitial {
					in.Token = []byte("a retry token")
				}
				pn := PacketNumber(0x01020304) & (1<<(8*pnLen) - 1)
				packet := buildLongPacket(t, &in, pn, pnLen, 40)
				h, err := ParseHeader(packet, 8, false)
				if err != nil {
					t.Fatalf("%v %v: %v", v, typ, err)
				}
				if h.Type != typ || h.Version != v || h.DCID != in.DCID || h.SCID != in.SCID ||
					!bytes.Equal(h.Token, in.Token) || h.PacketLen != len(packet) {
					t.Fatalf("%v %v: parsed %+v", v, typ, h)
				}
				got, n, err := h.ParsePacketNumber(packet)
				if err != nil || PacketNumber(got) != pn || n != pnLen {
					t.Fatalf("%v %v: ParsePacketNumber = %d, %d, %v", v, typ, got, n, err)
				}
				if err := CheckReservedBits(packet[0]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// ParseHeaderInto overwrites the whole Header: what an earlier packet's
// header set (an Initial's SCID and Token) is gone after a short header.
func TestParseHeaderIntoOverwrites(t *testing.T) {
	in := Header{Type: PacketInitial, Version: Version1, DCID: mustCID(t, "dcid-one"), SCID: mustCID(t, "scid"), Token: []byte("token")}
	initial := buildLongPacket(t, &in, 7, 2, 40)
	short := AppendShortHeader(nil, ptrCID(mustCID(t, "dcid-two")), 9, 2, false, false)
	short = append(short, bytes.Repeat([]byte{0xbb}, 30)...)
	var h Header
	if err := ParseHeaderInto(&h, initial, 8, false); err != nil || h.Token == nil {
		t.Fatalf("Initial: %+v, %v", h, err)
	}
	if err := ParseHeaderInto(&h, short, 8, false); err != nil {
		t.Fatal(err)
	}
	want, err := ParseHeader(short, 8, false)
	if err != nil {
		t.Fatal(err)
	}
	if h.Type != Packet1RTT || h.Token != nil || h.SCID != (ConnectionID{}) || h.Version != 0 ||
		h.DCID != want.DCID || h.PacketNumberOffset != want.PacketNumberOffset || h.PacketLen != want.PacketLen {
		t.Fatalf("after a short header: %+v, want %+v", h, want)
	}
}

func ptrCID(c ConnectionID) *ConnectionID { return &c }

// RFC 9369 §3.2: version 2 long header types differ from version 1.
func TestVersion2TypeBits(t *testing.T) {
	want := map[PacketType]byte{PacketInitial: 1, Packet0RTT: 2, PacketHandshake: 3, PacketRetry: 0}
	for typ, bits := range want {
		if got := longTypeBits(Version2, typ) >> 4; got != bits {
			t.Errorf("v2 %v bits = %d, want %d", typ, got, bits)
		}
		if got := longTypeBits(Version1, typ) >> 4; got != byte(typ-PacketInitial) {
			t.Errorf("v1 %v bits = %d", typ, got)
		}
	}
}

func TestCoalescedPackets(t *testing.T) {
	dcid, scid := mustCID(t, "12345678"), mustCID(t, "abcd")
	var datagram []byte
	datagram = append(datagram, buildLongPacket(t, &Header{Type: PacketInitial, Version: Version1, DCID: dcid, SCID: scid}, 0, 1, 30)...)
	datagram = append(datagram, buildLongPacket(t, &Header{Type: PacketHandshake, Version: Version1, DCID: dcid, SCID: scid}, 7, 2, 50)...)
	short := AppendShortHeader(nil, &dcid, 1000, 2, true, true)
	datagram = append(datagram, append(short, make([]byte, 25)...)...)

	var types []PacketType
	for rest := datagram; len(rest) > 0; {
		h, err := ParseHeader(rest, dcid.Len(), false)
		if err != nil {
			t.Fatal(err)
		}
		if h.DCID != dcid {
			t.Fatalf("DCID %v", h.DCID)
		}
		types = append(types, h.Type)
		if h.Type == Packet1RTT {
			_, n, _ := h.ParsePacketNumber(rest)
			if !KeyPhase(rest[0]) || !SpinBit(rest[0]) || n != 2 {
				t.Errorf("short header bits lost: %#x", rest[0])
			}
		}
		rest = rest[h.PacketLen:]
	}
	if want := []PacketType{PacketInitial, PacketHandshake, Packet1RTT}; !equalTypes(types, want) {
		t.Errorf("packets %v, want %v", types, want)
	}
}

func equalTypes(a, b []PacketType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestVersionNegotiation(t *testing.T) {
	// A client Initial of an unknown version, with a 25-byte DCID
	// (allowed by RFC 8999), reaches the server.
	client := []byte{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 25}
	client = append(client, bytes.Repeat([]byte{0xd}, 25)...)
	client = append(client, 4, 's', 'c', 'i', 'd')
	client = append(client, make([]byte, 1200)...)
	if _, err := ParseHeader(client, 8, false); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("ParseHeader error = %v, want ErrUnsupportedVersion", err)
	}
	inv, err := ParseInvariants(client, 8)
	if err != nil || !inv.Long || inv.Version != 0x1a2a3a4a || len(inv.DCID) != 25 || string(inv.SCID) != "scid" {
		t.Fatalf("ParseInvariants = %+v, %v", inv, err)
	}
	// A client with ordinary connection IDs gets an answer it can parse.
	inv = Invariants{Long: true, Version: 0x1a2a3a4a, DCID: []byte("server-side"), SCID: []byte("client")}
	vn, err := AppendVersionNegotiation(nil, &inv, []Version{Version2, Version1}, 0x15)
	if err != nil {
		t.Fatal(err)
	}
	if vn[0]&0xc0 != 0xc0 {
		t.Errorf("first byte %#x lacks form or 0x40 bits", vn[0])
	}
	h, err := ParseHeader(vn, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if h.Type != PacketVersionNegotiation || string(h.DCID.Bytes()) != "client" || string(h.SCID.Bytes()) != "server-side" {
		t.Fatalf("parsed %+v", h)
	}
	if h.Versions.Len() != 2 || h.Versions.At(0) != Version2 || !h.Versions.Contains(Version1) || h.Versions.Contains(0x1a2a3a4a) {
		t.Errorf("versions %x", []byte(h.Versions))
	}
	if _, err := AppendVersionNegotiation(nil, &inv, nil, 0); !errors.Is(err, ErrNoVersions) {
		t.Errorf("empty version list: %v", err)
	}
	// A list that is not a multiple of 4 bytes is dropped.
	if _, err := ParseHeader(vn[:len(vn)-1], 0, false); !errors.Is(err, ErrInvalidVersionList) {
		t.Errorf("odd version list: %v", err)
	}
}

func TestHeaderErrors(t *testing.T) {
	dcid := mustCID(t, "12345678")
	initial := buildLongPacket(t, &Header{Type: PacketInitial, Version: Version1, DCID: dcid, Token: []byte("tok")}, 1, 1, 20)
	// Every truncation is an error and not a panic.
	for i := 0; i < len(initial); i++ {
		if _, err := ParseHeader(initial[:i], 8, false); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	zeroFixed := append([]byte{}, initial...)
	zeroFixed[0] &^= fixedBit
	if _, err := ParseHeader(zeroFixed, 8, false); !errors.Is(err, ErrFixedBitZero) {
		t.Errorf("zero fixed bit: %v", err)
	}
	if _, err := ParseHeader(zeroFixed, 8, true); err != nil {
		t.Errorf("zero fixed bit with grease_quic_bit: %v", err)
	}
	if _, err := ParseHeader([]byte{0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 8, false); !errors.Is(err, ErrFixedBitZero) {
		t.Errorf("short header with zero fixed bit: %v", err)
	}
	// RFC 9000 §17.2: a 21-byte connection ID in a v1 header is dropped.
	long := []byte{0xc0, 0, 0, 0, 1, 21}
	long = append(long, make([]byte, 21)...)
	long = append(long, 0, 0, 1, 0)
	if _, err := ParseHeader(long, 8, false); !errors.Is(err, ErrConnectionIDTooLong) {
		t.Errorf("21-byte DCID: %v", err)
	}
	// Length beyond the datagram.
	if _, err := ParseHeader(initial[:len(initial)-1], 8, false); !errors.Is(err, ErrLengthExceeds) {
		t.Errorf("short datagram: %v", err)
	}
	// A Retry packet without a token is dropped (RFC 9000 §17.2.5).
	retry := AppendRetry(nil, Version1, dcid, dcid, nil)
	retry = append(retry, make([]byte, 16)...)
	if _, err := ParseHeader(retry, 8, false); !errors.Is(err, ErrEmptyRetryToken) {
		t.Errorf("empty retry token: %v", err)
	}
	if _, err := MakeConnectionID(make([]byte, 21)); !errors.Is(err, ErrConnectionIDTooLong) {
		t.Errorf("MakeConnectionID(21 bytes): %v", err)
	}
}

func TestReservedBits(t *testing.T) {
	for _, first := range []byte{0xc0 | 0x08, 0xc0 | 0x04, 0x40 | 0x10, 0x40 | 0x08} {
		err := CheckReservedBits(first)
		var te *TransportError
		if !errors.As(err, &te) || te.Code != ProtocolViolation {
			t.Errorf("CheckReservedBits(%#x) = %v, want PROTOCOL_VIOLATION", first, err)
		}
	}
	for _, first := range []byte{0xc3, 0x40 | 0x20 | 0x04 | 0x03} {
		if err := CheckReservedBits(first); err != nil {
			t.Errorf("CheckReservedBits(%#x) = %v", first, err)
		}
	}
}

func TestPutLongHeaderLengthLimits(t *testing.T) {
	b, off, _ := AppendLongHeader(nil, &Header{Type: PacketHandshake, Version: Version1}, 0, 1)
	if err := PutLongHeaderLength(b, off, MaxLongHeaderLength+1); !errors.Is(err, ErrLengthTooLarge) {
		t.Errorf("oversized length: %v", err)
	}
	if err := PutLongHeaderLength(b[:off+1], off, 10); err == nil {
		t.Error("length field outside the buffer: no error")
	}
}

func TestHeaderProtectionMask(t *testing.T) {
	if HeaderProtectionMask(0xc3) != 0x0f || HeaderProtectionMask(0x43) != 0x1f {
		t.Error("HeaderProtectionMask")
	}
}

// RFC 9001 Appendix A.3: the server Initial's sample starts at the third
// protected payload byte, with a 2-byte packet number.
func TestHeaderProtectionSample(t *testing.T) {
	v := readVectors(t, "packet")[0]
	packet := unhex(t, v[1])
	h, err := ParseHeader(packet, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := h.HeaderProtectionSample(packet)
	if err != nil || hex.EncodeToString(sample) != "2cd0991cd25b0aac406a5816b6394100" {
		t.Fatalf("sample %x, %v", sample, err)
	}
	h.PacketLen = h.PacketNumberOffset + 19
	if _, err := h.HeaderProtectionSample(packet); !errors.Is(err, ErrNoSample) {
		t.Errorf("short packet: %v", err)
	}
	retry := Header{Type: PacketRetry, PacketLen: 100}
	if _, err := retry.HeaderProtectionSample(make([]byte, 100)); !errors.Is(err, ErrNoSample) {
		t.Errorf("Retry: %v", err)
	}
}
