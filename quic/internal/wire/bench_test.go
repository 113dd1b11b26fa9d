package wire

import "testing"

var (
	benchStream = StreamFrame{StreamID: 4, Offset: 1 << 20, Data: make([]byte, 1200)}
	benchAck    = AckFrame{
		Ranges:   []AckRange{{1000, 1010}, {980, 995}, {900, 970}, {850, 880}, {100, 800}},
		AckDelay: 250,
		HasECN:   true,
		ECN:      ECNCounts{ECT0: 1000, CE: 2},
	}
)

func parseStreamOnce(b []byte) (StreamFrame, error) {
	t, n, err := ParseFrameType(b)
	if err != nil {
		return StreamFrame{}, err
	}
	f, _, err := ParseStreamFrame(t, b[n:])
	return f, err
}

func parseAckOnce(b []byte, buf []AckRange) (AckFrame, error) {
	t, n, err := ParseFrameType(b)
	if err != nil {
		return AckFrame{}, err
	}
	f, _, err := ParseAckFrame(t, b[n:], buf)
	return f, err
}

func BenchmarkParseStreamFrame(b *testing.B) {
	enc := benchStream.Append(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchStream.Data)))
	for b.Loop() {
		if _, err := parseStreamOnce(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendStreamFrame(b *testing.B) {
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchStream.Data)))
	for b.Loop() {
		buf = benchStream.Append(buf[:0])
	}
}

func BenchmarkParseAckFrame(b *testing.B) {
	enc := benchAck.Append(nil)
	buf := make([]AckRange, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseAckOnce(enc, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendAckFrame(b *testing.B) {
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchAck.Append(buf[:0])
	}
}

func BenchmarkParseShortHeader(b *testing.B) {
	dcid, _ := MakeConnectionID([]byte("8bytecid"))
	packet := append(AppendShortHeader(nil, &dcid, 123456, 2, false, false), make([]byte, 1200)...)
	b.ReportAllocs()
	for b.Loop() {
		h, err := ParseHeader(packet, 8, false)
		if err != nil || h.PacketLen != len(packet) {
			b.Fatal(err)
		}
	}
}

// The packet path must not allocate (DESIGN.md, "The packet path").
func TestFrameHotPathAllocs(t *testing.T) {
	streamEnc := benchStream.Append(nil)
	ackEnc := benchAck.Append(nil)
	out := make([]byte, 0, 1500)
	ranges := make([]AckRange, 0, 16)
	dcid, _ := MakeConnectionID([]byte("8bytecid"))
	packet := append(AppendShortHeader(nil, &dcid, 123456, 2, false, false), make([]byte, 1200)...)
	for name, fn := range map[string]func(){
		"parse STREAM":  func() { _, _ = parseStreamOnce(streamEnc) },
		"append STREAM": func() { out = benchStream.Append(out[:0]) },
		"parse ACK":     func() { _, _ = parseAckOnce(ackEnc, ranges) },
		"append ACK":    func() { out = benchAck.Append(out[:0]) },
		"parse header":  func() { _, _ = ParseHeader(packet, 8, false) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

func BenchmarkParseLongHeader(b *testing.B) {
	h := Header{Type: PacketHandshake, Version: Version1, DCID: mustCID(b, "8bytecid"), SCID: mustCID(b, "scid")}
	packet := buildLongPacket(b, &h, 77, 2, 1100)
	b.ReportAllocs()
	for b.Loop() {
		h, err := ParseHeader(packet, 8, false)
		if err != nil || h.PacketLen != len(packet) {
			b.Fatal(err)
		}
	}
}
