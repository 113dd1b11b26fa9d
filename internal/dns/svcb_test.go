package dns

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// The wire-format test vectors of RFC 9460 Appendix D (D.1 and D.2,
// Figures 2 to 10), RDATA only, with the record each describes.
var appendixD = []struct {
	figure string
	wire   string
	want   SVCB
}{
	{"2: AliasMode", "\x00\x00\x03foo\x07example\x03com\x00",
		SVCB{Priority: 0, Target: "foo.example.com."}},
	{`3: TargetName is "."`, "\x00\x01\x00",
		SVCB{Priority: 1, Target: "."}},
	{"4: port", "\x00\x10\x03foo\x07example\x03com\x00\x00\x03\x00\x02\x00\x35",
		SVCB{Priority: 16, Target: "foo.example.com.", Port: 53}},
	{"5: generic key", "\x00\x01\x03foo\x07example\x03com\x00\x02\x9b\x00\x05hello",
		SVCB{Priority: 1, Target: "foo.example.com.", Unknown: []SvcParam{{Key: 667, Value: []byte("hello")}}}},
	{"6: generic key, escaped value", "\x00\x01\x03foo\x07example\x03com\x00\x02\x9b\x00\x09hello\xd2qoo",
		SVCB{Priority: 1, Target: "foo.example.com.", Unknown: []SvcParam{{Key: 667, Value: []byte("hello\xd2qoo")}}}},
	{"7: two IPv6 hints", "\x00\x01\x03foo\x07example\x03com\x00\x00\x06\x00\x20" +
		"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" +
		"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x53\x00\x01",
		SVCB{Priority: 1, Target: "foo.example.com.", IPv6Hint: []netip.Addr{
			netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::53:1")}}},
	{"8: IPv6 hint in embedded IPv4 syntax", "\x00\x01\x07example\x03com\x00\x00\x06\x00\x10" +
		"\x20\x01\x0d\xb8\x01\x22\x03\x44\x00\x00\x00\x00\xc0\x00\x02\x21",
		SVCB{Priority: 1, Target: "example.com.", IPv6Hint: []netip.Addr{netip.MustParseAddr("2001:db8:122:344::192.0.2.33")}}},
	{"9: mandatory, alpn, ipv4hint", "\x00\x10\x03foo\x07example\x03org\x00" +
		"\x00\x00\x00\x04\x00\x01\x00\x04" +
		"\x00\x01\x00\x09\x02h2\x05h3-19" +
		"\x00\x04\x00\x04\xc0\x00\x02\x01",
		SVCB{Priority: 16, Target: "foo.example.org.", Mandatory: []ParamKey{KeyALPN, KeyIPv4Hint},
			ALPN: []string{"h2", "h3-19"}, IPv4Hint: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	{"10: alpn with a comma and a backslash", "\x00\x10\x03foo\x07example\x03org\x00" +
		"\x00\x01\x00\x0c\x08f\\oo,bar\x02h2",
		SVCB{Priority: 16, Target: "foo.example.org.", ALPN: []string{`f\oo,bar`, "h2"}}},
}

func TestSVCBAppendixD(t *testing.T) {
	for _, tc := range appendixD {
		got, err := parseSVCB([]byte(tc.wire))
		if err != nil {
			t.Errorf("Figure %s: %v", tc.figure, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Figure %s:\n got %+v\nwant %+v", tc.figure, got, tc.want)
		}
		wire, err := got.appendRData(nil)
		if err != nil || !bytes.Equal(wire, []byte(tc.wire)) {
			t.Errorf("Figure %s: appendRData = %q, %v", tc.figure, wire, err)
		}
		if err := got.consistent(); err != nil {
			t.Errorf("Figure %s: not self-consistent: %v", tc.figure, err)
		}
	}
}

// param returns the wire form of one SvcParam.
func param(key ParamKey, value string) string {
	return string([]byte{byte(key >> 8), byte(key), byte(len(value) >> 8), byte(len(value))}) + value
}

// svcbHead is the priority and TargetName of RFC 9460 Appendix D.3's
// failure cases: "1 foo.example.com.".
const svcbHead = "\x00\x01\x03foo\x07example\x03com\x00"

// TestSVCBMalformed: RFC 9460 Appendix D.3, Figures 11 to 13 and 16, in
// wire form, and the other format rules of §2.2 and §7: each makes the
// RDATA malformed, which rejects the RRset.
func TestSVCBMalformed(t *testing.T) {
	for _, tc := range []struct{ name, params string }{
		{"figure 11: a key twice", param(123, "abc") + param(123, "def")},
		{"figure 12: empty mandatory", param(KeyMandatory, "")},
		{"figure 12: empty alpn", param(KeyALPN, "")},
		{"figure 12: empty port", param(KeyPort, "")},
		{"figure 12: empty ipv4hint", param(KeyIPv4Hint, "")},
		{"figure 12: empty ipv6hint", param(KeyIPv6Hint, "")},
		{"figure 13: no-default-alpn with a value", param(KeyALPN, "\x02h3") + param(KeyNoDefaultALPN, "abc")},
		{"figure 16: a mandatory key twice", param(KeyMandatory, "\x00\x7b\x00\x7b") + param(123, "abc")},
		{"keys decreasing", param(KeyPort, "\x01\xbb") + param(KeyALPN, "\x02h3")},
		{"mandatory keys decreasing", param(KeyMandatory, "\x00\x03\x00\x01") + param(KeyALPN, "\x02h3") + param(KeyPort, "\x01\xbb")},
		{"mandatory of odd length", param(KeyMandatory, "\x00")},
		{"alpn not filling its value", param(KeyALPN, "\x03h3")},
		{"alpn with an empty id", param(KeyALPN, "\x02h3\x00")},
		{"port of 3 octets", param(KeyPort, "\x00\x01\xbb")},
		{"ipv4hint of 5 octets", param(KeyIPv4Hint, "\xc0\x00\x02\x01\x01")},
		{"ipv6hint of 4 octets", param(KeyIPv6Hint, "\xc0\x00\x02\x01")},
		{"RDATA ends in a key", "\x00"},
		{"RDATA ends in a value", "\x00\x03\x00\x02\x01"},
	} {
		_, err := parseSVCB([]byte(svcbHead + tc.params))
		var se *SVCBError
		if !errors.As(err, &se) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: parseSVCB = %v, want an *SVCBError", tc.name, err)
		}
	}
	// The TargetName is never compressed (§2.2).
	if _, err := parseSVCB([]byte("\x00\x01\xc0\x00")); !errors.Is(err, ErrMalformed) {
		t.Errorf("compressed TargetName: %v", err)
	}
	// In AliasMode the SvcParams are ignored (§2.4.2), even malformed.
	if s, err := parseSVCB([]byte("\x00\x00\x03foo\x00" + param(KeyPort, ""))); err != nil || s.Target != "foo." {
		t.Errorf("AliasMode with a bad param = %+v, %v", s, err)
	}
}

// TestSVCBConsistency: RFC 9460 Appendix D.3, Figures 14 and 15, and the
// §7.1.1 rule make one record unusable; unknown mandatory keys make it
// incompatible (§8).
func TestSVCBConsistency(t *testing.T) {
	for _, tc := range []struct {
		name       string
		params     string
		consistent bool
		compatible bool
	}{
		{"figure 14: mandatory key absent", param(KeyMandatory, "\x00\x7b"), false, false},
		{"figure 15: mandatory lists itself", param(KeyMandatory, "\x00\x00"), false, false},
		{"no-default-alpn without alpn", param(KeyNoDefaultALPN, ""), false, true},
		{"mandatory unknown key", param(KeyMandatory, "\x00\x7b") + param(123, "abc"), true, false},
		{"mandatory ech", param(KeyMandatory, "\x00\x05") + param(KeyECH, "\x00"), true, false},
		{"mandatory alpn and port", param(KeyMandatory, "\x00\x01\x00\x03") + param(KeyALPN, "\x02h3") + param(KeyPort, "\x01\xbb"), true, true},
		{"unknown key not mandatory", param(123, "abc"), true, true},
	} {
		s, err := parseSVCB([]byte(svcbHead + tc.params))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := s.consistent(); (err == nil) != tc.consistent {
			t.Errorf("%s: consistent = %v", tc.name, err)
		}
		if got := s.compatible(); got != tc.compatible {
			t.Errorf("%s: compatible = %v", tc.name, got)
		}
	}
}

func TestALPNSet(t *testing.T) {
	r := HTTPSRecord{SVCB: SVCB{Priority: 1, Target: ".", ALPN: []string{"h3", "h2"}}}
	if got := r.ALPNs(); !reflect.DeepEqual(got, []string{"h3", "h2", "http/1.1"}) || !r.SupportsH3() {
		t.Errorf("ALPNs = %q, SupportsH3 %v", got, r.SupportsH3())
	}
	r.SVCB.NoDefaultALPN = true
	if got := r.ALPNs(); !reflect.DeepEqual(got, []string{"h3", "h2"}) {
		t.Errorf("with no-default-alpn, ALPNs = %q", got)
	}
	r = HTTPSRecord{SVCB: SVCB{Priority: 1, Target: "."}}
	if got := r.ALPNs(); !reflect.DeepEqual(got, []string{"http/1.1"}) || r.SupportsH3() {
		t.Errorf("no alpn: ALPNs = %q, SupportsH3 %v", got, r.SupportsH3())
	}
}

func TestSVCBAppendRejects(t *testing.T) {
	for _, s := range []SVCB{
		{Priority: 1, Target: ".", ALPN: []string{""}},
		{Priority: 1, Target: ".", IPv4Hint: []netip.Addr{netip.MustParseAddr("::1")}},
		{Priority: 1, Target: ".", IPv6Hint: []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
		{Priority: 1, Target: ".", Port: 443, Unknown: []SvcParam{{Key: KeyPort, Value: []byte{1, 187}}}},
		{Priority: 1, Target: "a..b"},
	} {
		if _, err := s.appendRData(nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("appendRData(%+v) = %v, want an error", s, err)
		}
	}
}
