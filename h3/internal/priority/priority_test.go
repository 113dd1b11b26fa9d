package priority

import "testing"

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Priority
		ok   bool
	}{
		{"", Default, true},
		{"u=0", Priority{0, false}, true},
		{"u=5, i", Priority{5, true}, true},                        // RFC 9218 §4.2 example
		{"i, u=7", Priority{7, true}, true},                        // order does not matter
		{"i=?0", Priority{3, false}, true},                         // explicit false
		{"i=?1", Priority{3, true}, true},                          // explicit true
		{"u=1,i", Priority{1, true}, true},                         // no OWS
		{"u=1 ,\t i", Priority{1, true}, true},                     // OWS around the comma
		{"  u=2  ", Priority{2, false}, true},                      // OWS at the ends
		{"u=8", Default, true},                                     // out of range: ignored
		{"u=-1", Default, true},                                    // out of range: ignored
		{"u=1.5", Default, true},                                   // Decimal: wrong type
		{"u=?1", Default, true},                                    // Boolean: wrong type
		{`u="1"`, Default, true},                                   // String: wrong type
		{"u", Default, true},                                       // bare key is Boolean true
		{"u=(1 2)", Default, true},                                 // inner list
		{"i=1", Default, true},                                     // Integer: wrong type
		{"i=tok", Default, true},                                   // Token: wrong type
		{"u=1, u=9", Default, true},                                // last value counts, ignored
		{"u=9, u=1", Priority{1, false}, true},                     // last value counts
		{"u=2;x=1, i;y", Priority{2, true}, true},                  // parameters ignored
		{`foo="b\"ar", bar=:aGk=:, u=4`, Priority{4, false}, true}, // unknown keys
		{"x=(a \"b\";p=1 ?0);q, u=6", Priority{6, false}, true},
		{"*k.-_9=1, u=0", Priority{0, false}, true},
		{"u=0,", Default, false},     // trailing comma
		{"u=0 i", Default, false},    // no comma
		{"U=0", Default, false},      // keys are lower case
		{"u=", Default, false},       // no value
		{"u=1.2345", Default, false}, // too many fraction digits
		{"u=1234567890123456", Default, false},
		{`x="abc`, Default, false},  // unterminated String
		{`x="\a"`, Default, false},  // bad escape
		{"x=:ab", Default, false},   // unterminated Byte Sequence
		{"x=(1 2", Default, false},  // unterminated inner list
		{"x=(1,2)", Default, false}, // comma in an inner list
		{"x=?2", Default, false},    // bad Boolean
		{"u=1;", Default, false},    // empty parameter key
		{",u=1", Default, false},    // leading comma
		{"u=1\x00", Default, false}, // control character
		{"x=-", Default, false},     // sign without digits
		{"x=1.", Default, false},    // no fraction digits
		// RFC 9651 (which obsoletes RFC 8941) adds Dates and Display
		// Strings: unknown members, ignored.
		{"x=@1659578233, u=1", Priority{1, false}, true},
		{"x=@-62135596800;p=@0, u=1", Priority{1, false}, true},
		{"u=@1", Default, true}, // a Date: wrong type
		{`x=%"f%c3%bc%c3%bc", u=1`, Priority{1, false}, true},
		{`x=%"", u=1`, Priority{1, false}, true},
		{`x=%"%ef%bf%bd" i`, Default, false}, // U+FFFD, then no comma
		{`x=%"%ef%bf%bd", i`, Priority{3, true}, true},
		{"x=@1.5", Default, false},          // Date as a Decimal
		{"x=@", Default, false},             // Date without a number
		{"x=@a", Default, false},            // Date without a number
		{`x=%"abc`, Default, false},         // unterminated
		{`x=%abc"`, Default, false},         // no quote
		{`x=%"%C3%BC"`, Default, false},     // upper-case hex
		{`x=%"%c3"`, Default, false},        // ends inside a rune
		{`x=%"%c3a"`, Default, false},       // ASCII inside a rune
		{`x=%"%ff"`, Default, false},        // not UTF-8
		{`x=%"%ed%a0%80"`, Default, false},  // a surrogate
		{`x=%"%c0%80"`, Default, false},     // overlong
		{`x=%"%c"`, Default, false},         // one hex digit
		{"x=%\"\x7f\"", Default, false},     // DEL
		{"x=%\"\xc3\xbc\"", Default, false}, // raw UTF-8
	}
	for _, c := range cases {
		got, ok := Parse(c.in, Default)
		if got != c.want || ok != c.ok {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
		gotB, okB := Parse([]byte(c.in), Default)
		if gotB != got || okB != ok {
			t.Errorf("Parse([]byte %q) = %+v, %v; string gave %+v, %v", c.in, gotB, okB, got, ok)
		}
	}
}

// A response's Priority changes only the parameters it names (RFC 9218 §8).
func TestParseOntoBase(t *testing.T) {
	base := Priority{5, true}
	if got, _ := Parse("u=1", base); got != (Priority{1, true}) {
		t.Errorf("u=1 onto %+v = %+v", base, got)
	}
	if got, ok := Parse("u=1,", base); got != base || ok {
		t.Errorf("malformed onto %+v = %+v, %v", base, got, ok)
	}
}

func TestParseAllocs(t *testing.T) {
	b := []byte("u=5, i")
	n := testing.AllocsPerRun(100, func() {
		Parse("u=0, i, foo=\"bar\";x=(1 2)", Default)
		Parse(b, Default)
		Parse(`x=%"f%c3%bc", y=@12, u=1`, Default)
	})
	if n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "u=0", "u=5, i", "i=?0", "u=1;a=b, x=(1 \"s\" :aGk=: tok?0)", "u=1,", `x="\"`, "x=@-12, u=1", `x=%"a%c3%bcb"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := Parse(s, Priority{Urgency: 6, Incremental: true})
		if p.Urgency > maxUrgency {
			t.Fatalf("Parse(%q) urgency %d", s, p.Urgency)
		}
		if !ok && p != (Priority{Urgency: 6, Incremental: true}) {
			t.Fatalf("Parse(%q) failed but changed the priority to %+v", s, p)
		}
		q, ok2 := Parse([]byte(s), Priority{Urgency: 6, Incremental: true})
		if p != q || ok != ok2 {
			t.Fatalf("Parse(%q): string and []byte disagree", s)
		}
	})
}

// TestParseLines: a field's lines are one Dictionary, a later member
// replacing an earlier one; one malformed line makes the field malformed.
func TestParseLines(t *testing.T) {
	base := Priority{Urgency: 5}
	for _, tc := range []struct {
		lines []string
		want  Priority
		ok    bool
	}{
		{nil, base, true},
		{[]string{"u=1", "i"}, Priority{Urgency: 1, Incremental: true}, true},
		{[]string{"u=1, i", "u=2"}, Priority{Urgency: 2, Incremental: true}, true},
		{[]string{"i", "u=("}, base, false},
	} {
		if got, ok := ParseLines(tc.lines, base); got != tc.want || ok != tc.ok {
			t.Errorf("ParseLines(%q) = %+v, %v; want %+v, %v", tc.lines, got, ok, tc.want, tc.ok)
		}
	}
}
