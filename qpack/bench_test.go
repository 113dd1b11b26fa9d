package qpack

import "testing"

// A typical browser request and server response.
var (
	typicalRequest = []HeaderField{
		{Name: ":method", Value: "GET"},
		{Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "www.example.com"},
		{Name: ":path", Value: "/static/js/app.4f3c2a.js"},
		{Name: "user-agent", Value: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		{Name: "accept", Value: "*/*"},
		{Name: "accept-language", Value: "en-US,en;q=0.5"},
		{Name: "accept-encoding", Value: "gzip, deflate, br, zstd"},
		{Name: "referer", Value: "https://www.example.com/"},
		{Name: "cookie", Value: "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark"},
		{Name: "sec-fetch-dest", Value: "script"},
		{Name: "sec-fetch-mode", Value: "no-cors"},
		{Name: "sec-fetch-site", Value: "same-origin"},
	}
	typicalResponse = []HeaderField{
		{Name: ":status", Value: "200"},
		{Name: "content-type", Value: "application/javascript"},
		{Name: "content-length", Value: "48213"},
		{Name: "date", Value: "Fri, 27 Nov 2026 04:00:00 GMT"},
		{Name: "server", Value: "skiff"},
		{Name: "cache-control", Value: "public, max-age=31536000"},
		{Name: "etag", Value: "\"4f3c2a-bc55\""},
		{Name: "last-modified", Value: "Thu, 26 Nov 2026 12:00:00 GMT"},
		{Name: "vary", Value: "accept-encoding"},
		{Name: "strict-transport-security", Value: "max-age=31536000; includesubdomains"},
		{Name: "alt-svc", Value: "h3=\":443\"; ma=86400"},
	}
)

func fieldBytes(fields []HeaderField) int64 {
	n := 0
	for _, f := range fields {
		n += len(f.Name) + len(f.Value)
	}
	return int64(n)
}

// pair is an encoder and decoder wired together, warmed up so that the
// fields are in both dynamic tables and acknowledged.
type pair struct {
	e            Encoder
	d            Decoder
	sec, enc     []byte
	dec          []byte
	fields       []HeaderField
	stream       uint64
	sectionBytes int
}

func newPair(tb testing.TB, capacity uint64, fields []HeaderField) *pair {
	p := &pair{}
	p.e.SetPeerSettings(capacity, 16)
	p.d.SetMaxTableCapacity(capacity)
	p.d.SetMaxBlockedStreams(16)
	for i := 0; i < 4; i++ {
		p.exchange(tb, fields)
	}
	return p
}

// exchange encodes fields, carries the encoder stream, decodes, and
// carries the decoder stream back.
func (p *pair) exchange(tb testing.TB, fields []HeaderField) {
	p.stream += 4
	p.sec = p.e.EncodeFieldSection(p.sec[:0], p.stream, fields)
	p.sectionBytes = len(p.sec)
	p.enc = p.e.AppendEncoderStream(p.enc[:0])
	if err := p.d.WriteEncoderStream(p.enc); err != nil {
		tb.Fatal(err)
	}
	var err error
	p.fields, _, err = p.d.DecodeFieldSection(p.stream, p.sec, p.fields[:0])
	if err != nil {
		tb.Fatal(err)
	}
	p.dec = p.d.AppendDecoderStream(p.dec[:0])
	if err := p.e.WriteDecoderStream(p.dec); err != nil {
		tb.Fatal(err)
	}
}

func benchExchange(b *testing.B, capacity uint64, fields []HeaderField) {
	p := newPair(b, capacity, fields)
	b.ReportAllocs()
	b.SetBytes(2 * fieldBytes(fields))
	for b.Loop() {
		p.exchange(b, fields)
	}
	b.ReportMetric(float64(p.sectionBytes), "section-bytes")
}

// BenchmarkExchange* encode and decode a section, with the encoder and
// decoder stream traffic, in steady state. SetBytes counts the field bytes
// (name + value) once for encoding and once for decoding.
func BenchmarkExchangeRequest(b *testing.B)        { benchExchange(b, 4096, typicalRequest) }
func BenchmarkExchangeResponse(b *testing.B)       { benchExchange(b, 4096, typicalResponse) }
func BenchmarkExchangeRequestStatic(b *testing.B)  { benchExchange(b, 0, typicalRequest) }
func BenchmarkExchangeResponseStatic(b *testing.B) { benchExchange(b, 0, typicalResponse) }

func benchEncode(b *testing.B, capacity uint64, fields []HeaderField) {
	p := newPair(b, capacity, fields)
	var ack []byte
	b.ReportAllocs()
	b.SetBytes(fieldBytes(fields))
	for b.Loop() {
		p.stream += 4
		p.sec = p.e.EncodeFieldSection(p.sec[:0], p.stream, fields)
		if capacity > 0 {
			// The decoder's acknowledgment, so that nothing accumulates.
			ack = appendInteger(ack[:0], 0x80, 7, p.stream)
			if err := p.e.WriteDecoderStream(ack); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(p.sec)), "section-bytes")
}

func BenchmarkEncodeRequest(b *testing.B)        { benchEncode(b, 4096, typicalRequest) }
func BenchmarkEncodeResponse(b *testing.B)       { benchEncode(b, 4096, typicalResponse) }
func BenchmarkEncodeRequestStatic(b *testing.B)  { benchEncode(b, 0, typicalRequest) }
func BenchmarkEncodeResponseStatic(b *testing.B) { benchEncode(b, 0, typicalResponse) }

func benchDecode(b *testing.B, capacity uint64, fields []HeaderField, callback bool) {
	p := newPair(b, capacity, fields)
	sec := append([]byte(nil), p.sec...)
	n := 0
	fn := func(name, value []byte, never bool) { n += len(name) + len(value) }
	b.ReportAllocs()
	b.SetBytes(fieldBytes(fields))
	for b.Loop() {
		var err error
		if callback {
			_, err = p.d.DecodeFieldSectionFunc(p.stream, sec, fn)
		} else {
			p.fields, _, err = p.d.DecodeFieldSection(p.stream, sec, p.fields[:0])
		}
		if err != nil {
			b.Fatal(err)
		}
		p.dec = p.d.AppendDecoderStream(p.dec[:0])
	}
}

// BenchmarkDecode* decode the steady-state section of the exchange (all
// indexed with a dynamic table; literals with the static table only, where
// the Func variant avoids allocating strings).
func BenchmarkDecodeRequest(b *testing.B)  { benchDecode(b, 4096, typicalRequest, false) }
func BenchmarkDecodeResponse(b *testing.B) { benchDecode(b, 4096, typicalResponse, false) }
func BenchmarkDecodeRequestStaticFunc(b *testing.B) {
	benchDecode(b, 0, typicalRequest, true)
}
func BenchmarkDecodeResponseStaticFunc(b *testing.B) {
	benchDecode(b, 0, typicalResponse, true)
}

func BenchmarkHuffmanDecode(b *testing.B) {
	enc := appendHuffmanEncoded(nil, typicalRequest[4].Value)
	var dst []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		var err error
		if dst, err = appendHuffmanDecoded(dst[:0], enc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSteadyStateAllocs guards the zero-allocation hot paths: a full
// encode/decode exchange with the dynamic table, and static-only encoding
// with callback decoding.
func TestSteadyStateAllocs(t *testing.T) {
	for _, fields := range [][]HeaderField{typicalRequest, typicalResponse} {
		p := newPair(t, 4096, fields)
		if n := testing.AllocsPerRun(100, func() { p.exchange(t, fields) }); n != 0 {
			t.Errorf("exchange with dynamic table: %v allocs, want 0", n)
		}
		if p.sectionBytes > len(fields)+2 {
			t.Errorf("steady-state section is %d bytes for %d fields: not all indexed", p.sectionBytes, len(fields))
		}
		s := newPair(t, 0, fields)
		fn := func(name, value []byte, never bool) {}
		if n := testing.AllocsPerRun(100, func() {
			s.stream += 4
			s.sec = s.e.EncodeFieldSection(s.sec[:0], s.stream, fields)
			if _, err := s.d.DecodeFieldSectionFunc(s.stream, s.sec, fn); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("static-only encode + callback decode: %v allocs, want 0", n)
		}
	}
}
