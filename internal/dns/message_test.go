package dns

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// header returns a message header with the given flags and section counts.
func header(id, flags uint16, qd, an, ns, ar uint16) []byte {
	var b []byte
	for _, v := range []uint16{id, flags, qd, an, ns, ar} {
		b = append(b, byte(v>>8), byte(v))
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// exampleQuestion is "example.com. A IN", at offset 12 in a message.
var exampleQuestion = []byte("\x07example\x03com\x00\x00\x01\x00\x01")

func TestQueryRoundTrip(t *testing.T) {
	q, err := NewQuery("Example.COM", TypeHTTPS)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := q.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMessage(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, q) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, q)
	}
	if got.Questions[0].Name != "Example.COM." || !got.RecursionDesired || got.EDNS.UDPSize != 1232 {
		t.Errorf("query = %+v, EDNS %+v", got, got.EDNS)
	}
	// The OPT record: root owner, TYPE 41, CLASS = payload size, TTL 0,
	// no options (RFC 6891 §6.1.2).
	if opt := wire[len(wire)-11:]; !bytes.Equal(opt, []byte{0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("OPT record = % x", opt)
	}
	// IDs are random: eight queries all with one ID has odds of 2^-112.
	ids := map[uint16]bool{}
	for range 8 {
		q, _ := NewQuery("example.com", TypeA)
		ids[q.ID] = true
	}
	if len(ids) == 1 {
		t.Errorf("eight queries share the ID %v", ids)
	}
}

func TestParseCompressedResponse(t *testing.T) {
	// example.com. CNAME www.<ptr 12>, www.example.com. A 192.0.2.1 with
	// the owner compressed to the CNAME's RDATA, then TC and an OPT
	// record with extended RCODE 1 (BADVERS = 16).
	msg := cat(header(0xbeef, flagQR|flagTC|flagRD|flagRA, 1, 2, 0, 1),
		exampleQuestion,
		[]byte("\xc0\x0c\x00\x05\x00\x01\x00\x00\x01\x2c\x00\x06\x03www\xc0\x0c"),
		[]byte("\xc0\x29\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01"),
		[]byte("\x00\x00\x29\x10\x00\x01\x00\x00\x00\x00\x00"),
	)
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := []RR{
		{Name: "example.com.", Type: TypeCNAME, Class: ClassINET, TTL: 300, Data: CNAME{Target: "www.example.com."}},
		{Name: "www.example.com.", Type: TypeA, Class: ClassINET, TTL: 60, Data: A{Addr: netip.MustParseAddr("192.0.2.1")}},
	}
	if !reflect.DeepEqual(m.Answers, want) {
		t.Errorf("answers = %+v", m.Answers)
	}
	if m.ID != 0xbeef || !m.Response || !m.Truncated || m.Rcode != 16 || m.EDNS.UDPSize != 4096 {
		t.Errorf("header = %+v, EDNS %+v", m.Header, m.EDNS)
	}
}

func TestParseRejects(t *testing.T) {
	q := exampleQuestion
	a := []byte("\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01") // type..RDATA of an A record
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"short header", header(1, 0, 0, 0, 0, 0)[:11]},
		{"counts beyond the message", header(1, 0, 0xffff, 0xffff, 0xffff, 0xffff)},
		{"question past the end", cat(header(1, 0, 1, 0, 0, 0), q[:len(q)-1])},
		{"pointer to itself", cat(header(1, flagQR, 1, 1, 0, 0), q, []byte("\xc0\x1d"), a)},
		{"pointer forwards", cat(header(1, flagQR, 1, 1, 0, 0), q, []byte("\xc0\x1f"), a)},
		// A label then a pointer back to that label: each hop points
		// before the last, so the loop is caught at the second pointer.
		{"pointer loop", cat(header(1, flagQR, 1, 1, 0, 0), q, []byte("\x01a\xc0\x1d"), a)},
		{"pointer past the end", cat(header(1, flagQR, 1, 0, 0, 0), []byte("\xc0"))},
		{"label past the end", cat(header(1, flagQR, 1, 0, 0, 0), []byte("\x3fabc"))},
		{"extended label type", cat(header(1, flagQR, 1, 0, 0, 0), []byte("\x41abc\x00\x00\x01\x00\x01"))},
		{"RDATA past the end", cat(header(1, flagQR, 1, 1, 0, 0), q, []byte("\xc0\x0c"), a[:len(a)-1])},
		{"record header past the end", cat(header(1, flagQR, 1, 1, 0, 0), q, []byte("\xc0\x0c"), a[:9])},
		{"two OPT records", cat(header(1, flagQR, 0, 0, 0, 2), []byte("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"))},
		{"OPT in the answers", cat(header(1, flagQR, 0, 1, 0, 0), []byte("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"))},
		{"OPT not at the root", cat(header(1, flagQR, 0, 0, 0, 1), []byte("\x01a\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMessage(tc.msg)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseMessage = %v, want a *ParseError", err)
			}
		})
	}
}

// TestParseLongPointerChain: a name made of pointers that each add one
// label decodes up to 255 octets (RFC 1035 §2.3.4) and no further.
func TestParseLongPointerChain(t *testing.T) {
	a := []byte("\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01")
	for _, labels := range []int{127, 128} { // 2*127+1 = 255 octets, then 257
		// The links live in the RDATA of a record of an unknown type,
		// at offset 23: after the header and that record's own header.
		const rdataAt = 12 + 11
		rdata := []byte{0} // the root
		prev := rdataAt
		for range labels {
			at := rdataAt + len(rdata)
			rdata = append(rdata, 1, 'x', 0xc0|byte(prev>>8), byte(prev))
			prev = at
		}
		msg := cat(header(1, flagQR, 0, 2, 0, 0),
			[]byte{0, 0xff, 0x00, 0, 1, 0, 0, 0, 0, byte(len(rdata) >> 8), byte(len(rdata))}, rdata,
			[]byte{0xc0 | byte(prev>>8), byte(prev)}, a)
		m, err := ParseMessage(msg)
		if labels == 127 {
			if err != nil || m.Answers[1].Name != strings.Repeat("x.", 127) {
				t.Errorf("127 labels: %v", err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("128 labels: ParseMessage = %v, want a name-too-long error", err)
		}
	}
}

// TestParseEveryPrefix: every truncation of a valid response fails cleanly.
func TestParseEveryPrefix(t *testing.T) {
	resp := &Message{
		Header:    Header{ID: 7, Response: true},
		Questions: []Question{{Name: "example.com.", Type: TypeHTTPS, Class: ClassINET}},
		Answers: []RR{{Name: "example.com.", Type: TypeHTTPS, Class: ClassINET, TTL: 60, Data: SVCB{
			Priority: 1, Target: ".", ALPN: []string{"h3", "h2"}, Port: 8443,
			IPv4Hint: []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		}}},
		Authorities: []RR{{Name: ".", Type: TypeSOA, Class: ClassINET, TTL: 5, Data: SOA{MName: "a.", RName: "b.", Minimum: 5}}},
		EDNS:        &EDNS{UDPSize: 1232},
	}
	wire, err := resp.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMessage(wire)
	if err != nil || !reflect.DeepEqual(got, resp) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for n := range len(wire) {
		if m, err := ParseMessage(wire[:n]); err == nil {
			t.Fatalf("prefix of %d octets parsed: %+v", n, m)
		}
	}
}

func TestInvalidRDataKeepsMessage(t *testing.T) {
	msg := cat(header(1, flagQR, 1, 2, 0, 0), exampleQuestion,
		[]byte("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x03\xc0\x00\x02"),     // A of 3 octets
		[]byte("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x02"), // a good A
	)
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if inv, ok := m.Answers[0].Data.(Invalid); !ok || !errors.Is(inv.Err, ErrMalformed) || len(inv.Data) != 3 {
		t.Errorf("first answer = %+v, want Invalid", m.Answers[0])
	}
	if a, ok := m.Answers[1].Data.(A); !ok || a.Addr != netip.MustParseAddr("192.0.2.2") {
		t.Errorf("second answer = %+v", m.Answers[1])
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, wire, out string }{
		{"example.com", "\x07example\x03com\x00", "example.com."},
		{"example.com.", "\x07example\x03com\x00", "example.com."},
		{".", "\x00", "."},
		{`a\.b.c`, "\x03a.b\x01c\x00", `a\.b.c.`},
		{`a\\.c`, "\x02a\\\x01c\x00", `a\\.c.`},
		{`\000\255 x.y`, "\x04\x00\xff x\x01y\x00", `\000\255\032x.y.`},
	} {
		wire, err := appendName(nil, tc.in)
		if err != nil || string(wire) != tc.wire {
			t.Errorf("appendName(%q) = %q, %v; want %q", tc.in, wire, err, tc.wire)
			continue
		}
		out, next, err := readName(wire, 0)
		if err != nil || out != tc.out || next != len(wire) {
			t.Errorf("readName(%q) = %q, %d, %v; want %q", wire, out, next, err, tc.out)
		}
	}
	long63 := string(bytes.Repeat([]byte("a"), 63))
	for _, bad := range []string{"a..b", ".a", long63 + "a.com", `a\`, `a\25`, `\256`,
		long63 + "." + long63 + "." + long63 + "." + long63 + "."} {
		if _, err := appendName(nil, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("appendName(%q) = %v, want an error", bad, err)
		}
	}
	if got := CanonicalName("WWW.Example.COM"); got != "www.example.com." {
		t.Errorf("CanonicalName = %q", got)
	}
	if got := CanonicalName(`a\.`); got != `a\..` {
		t.Errorf(`CanonicalName(a\.) = %q`, got)
	}
}

func TestAppendRejects(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for _, m := range []*Message{
		{Answers: []RR{{Name: "a.", Type: TypeAAAA, Data: A{Addr: v4}}}},
		{Answers: []RR{{Name: "a.", Type: TypeA, Data: A{Addr: v6}}}},
		{Answers: []RR{{Name: "a.", Type: TypeAAAA, Data: AAAA{Addr: v4}}}},
		{Answers: []RR{{Name: "a.", Type: TypeA, Data: CNAME{Target: "b."}}}},
		{Answers: []RR{{Name: "a.", Type: TypeA, Data: SOA{}}}},
		{Answers: []RR{{Name: "a.", Type: TypeA, Data: SVCB{Target: "."}}}},
		{Answers: []RR{{Name: "a.", Type: TypeA}}},
		{Answers: []RR{{Name: "a..", Type: TypeA, Data: A{Addr: v4}}}},
		{Header: Header{Rcode: 16}}, // BADVERS needs an OPT record
		{Answers: []RR{{Name: "a.", Type: 99, Data: Unknown{Data: make([]byte, 1<<16)}}}},
	} {
		if _, err := m.Append(nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("Append(%+v) = %v, want an error", m.Answers, err)
		}
	}
}

// TestTTLTopBit: RFC 2181 §8, a TTL with the top bit set counts as zero.
func TestTTLTopBit(t *testing.T) {
	if d := ttlDuration(1 << 31); d != 0 {
		t.Errorf("ttlDuration(2^31) = %v", d)
	}
	if d := ttlDuration(1<<31 - 1); d != (1<<31-1)*time.Second {
		t.Errorf("ttlDuration(2^31-1) = %v", d)
	}
}
