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
		{"x=@123", Default, false},  // Date is RFC 9651, not RFC 8941
		{"u=1;", Default, false},    // empty parameter key
		{",u=1", Default, false},    // leading comma
		{"u=1\x00", Default, false}, // control character
		{"x=-", Default, false},     // sign without digits
		{"x=1.", Default, false},    // no fraction digits
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
	})
	if n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "u=0", "u=5, i", "i=?0", "u=1;a=b, x=(1 \"s\" :aGk=: tok?0)", "u=1,", `x="\"`} {
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
