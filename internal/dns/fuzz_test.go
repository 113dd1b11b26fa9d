package dns

import (
	"reflect"
	"testing"
)

// FuzzParseMessage: no input panics, and a message that parses encodes
// again (uncompressed) into one that parses to the same thing.
func FuzzParseMessage(f *testing.F) {
	q, _ := NewQuery("example.com", TypeHTTPS)
	wire, _ := q.Append(nil)
	f.Add(wire)
	for _, tc := range appendixD {
		rdata := tc.wire
		msg := cat(header(1, flagQR|flagRD|flagRA, 1, 1, 0, 0), exampleQuestion,
			[]byte{0xc0, 0x0c, 0, 65, 0, 1, 0, 0, 0, 60, byte(len(rdata) >> 8), byte(len(rdata))}, []byte(rdata))
		f.Add(msg)
	}
	f.Add(cat(header(0xbeef, flagQR|flagTC, 1, 2, 0, 1), exampleQuestion,
		[]byte("\xc0\x0c\x00\x05\x00\x01\x00\x00\x01\x2c\x00\x06\x03www\xc0\x0c"),
		[]byte("\xc0\x29\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01"),
		[]byte("\x00\x00\x29\x10\x00\x01\x00\x00\x00\x00\x00")))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		out, err := m.Append(nil)
		if err != nil {
			t.Fatalf("a parsed message does not encode: %v\n%+v", err, m)
		}
		m2, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("an encoded message does not parse: %v", err)
		}
		// Invalid RDATA is written back as it came, and a compression
		// pointer in it points elsewhere in the new message.
		for _, sec := range [][]RR{m.Answers, m.Authorities, m.Additionals} {
			for _, rr := range sec {
				if _, ok := rr.Data.(Invalid); ok {
					return
				}
			}
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", m2, m)
		}
	})
}

// FuzzParseSVCB: SVCB RDATA alone, where the interesting rules are.
func FuzzParseSVCB(f *testing.F) {
	for _, tc := range appendixD {
		f.Add([]byte(tc.wire))
	}
	f.Add([]byte(svcbHead + param(KeyMandatory, "\x00\x01\x00\x03") + param(KeyALPN, "\x02h3") + param(KeyPort, "\x01\xbb")))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSVCB(b)
		if err != nil {
			return
		}
		_ = s.consistent()
		_ = s.compatible()
		out, err := s.appendRData(nil)
		if err != nil {
			t.Fatalf("a parsed record does not encode: %v\n%+v", err, s)
		}
		s2, err := parseSVCB(out)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip: %+v, %v; want %+v", s2, err, s)
		}
	})
}
