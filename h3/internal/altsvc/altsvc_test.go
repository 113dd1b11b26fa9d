package altsvc

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseRFC7838Examples(t *testing.T) {
	day := DefaultMaxAge
	for value, want := range map[string][]Entry{
		`h2=":8000"`:                                  {{Protocol: "h2", Port: 8000, MaxAge: day}},
		`h2="new.example.org:80"`:                     {{Protocol: "h2", Host: "new.example.org", Port: 80, MaxAge: day}},
		`w%3Dx%3Ay#z=":1"`:                            {{Protocol: "w=x:y#z", Port: 1, MaxAge: day}},
		`x%25y=":1"`:                                  {{Protocol: "x%y", Port: 1, MaxAge: day}},
		`h2="alt.example.com:8000", h2=":443"`:        {{Protocol: "h2", Host: "alt.example.com", Port: 8000, MaxAge: day}, {Protocol: "h2", Port: 443, MaxAge: day}},
		`h2=":443"; ma=3600`:                          {{Protocol: "h2", Port: 443, MaxAge: time.Hour}},
		`h2=":443"; ma=2592000; persist=1`:            {{Protocol: "h2", Port: 443, MaxAge: 2592000 * time.Second, Persist: true}},
		`h3=":443"; ma=86400, h3-29=":443"; ma=86400`: {{Protocol: "h3", Port: 443, MaxAge: day}, {Protocol: "h3-29", Port: 443, MaxAge: day}},
	} {
		got, clear, err := Parse(value)
		if err != nil || clear || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v %v", value, got, clear, err)
		}
	}
}

func TestParseDetails(t *testing.T) {
	for value, want := range map[string]Entry{
		`h3="[2001:db8::1]:443"`:                {Protocol: "h3", Host: "2001:db8::1", Port: 443, MaxAge: DefaultMaxAge},
		`h3="192.0.2.1:443"`:                    {Protocol: "h3", Host: "192.0.2.1", Port: 443, MaxAge: DefaultMaxAge},
		`h3 = ":443"`:                           {}, // no OWS around "=": error, checked below
		`h3=":443";ma=60;persist=1`:             {Protocol: "h3", Port: 443, MaxAge: time.Minute, Persist: true},
		"h3=\":443\"\t ;\t MA=\"60\"":           {Protocol: "h3", Port: 443, MaxAge: time.Minute},
		`h3=":443"; persist=2`:                  {Protocol: "h3", Port: 443, MaxAge: DefaultMaxAge},
		`h3=":443"; foo=bar; baz="q;,x"; ma=10`: {Protocol: "h3", Port: 443, MaxAge: 10 * time.Second},
		`h3=":443"; ma=10; ma=20`:               {Protocol: "h3", Port: 443, MaxAge: 10 * time.Second},
		`h3=":443"; ma=0`:                       {Protocol: "h3", Port: 443},
		`h3=":443"; ma=99999999999999999999999`: {Protocol: "h3", Port: 443, MaxAge: (1 << 31) * time.Second},
		`h3="ex\ample.com:443"`:                 {Protocol: "h3", Host: "example.com", Port: 443, MaxAge: DefaultMaxAge},
		`h3="a.example:00443"`:                  {Protocol: "h3", Host: "a.example", Port: 443, MaxAge: DefaultMaxAge},
		`h3%2d29=":1"`:                          {Protocol: "h3-29", Port: 1, MaxAge: DefaultMaxAge},
		`clear=":1"`:                            {Protocol: "clear", Port: 1, MaxAge: DefaultMaxAge},
	} {
		got, _, err := Parse(value)
		if want.Protocol == "" {
			if err == nil {
				t.Errorf("%s: accepted", value)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("%s: %+v %v", value, got, err)
		}
	}
}

func TestParseEmptyElements(t *testing.T) {
	got, _, err := Parse(` , h3=":443",, ,h2=":443" ,`)
	if err != nil || len(got) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	for _, v := range []string{"", " ", " , ,"} {
		if _, _, err := Parse(v); !errors.Is(err, ErrNoEntries) {
			t.Errorf("%q: %v", v, err)
		}
	}
}

// RFC 7838 §3: "clear" invalidates all alternatives, including those in the
// same (invalid) response.
func TestParseClear(t *testing.T) {
	for _, v := range []string{"clear", " clear ", `h3=":443", clear`, `clear, h2=":443"`} {
		got, clear, err := Parse(v)
		if err != nil || !clear || got != nil {
			t.Errorf("%q: %+v %v %v", v, got, clear, err)
		}
	}
	if _, _, err := Parse("Clear"); err == nil {
		t.Error(`"Clear" accepted: the keyword is case-sensitive`)
	}
}

func TestParseRejects(t *testing.T) {
	for _, v := range []string{
		`h3`,
		`h3=`,
		`h3=:443`,           // alt-authority must be quoted
		`h3=":443`,          // unterminated
		`h3="443"`,          // no colon
		`h3=":"`,            // no port
		`h3=":0"`,           // port 0
		`h3=":65536"`,       // port too large
		`h3=":-1"`,          // port not digits
		`h3=":44a"`,         // port not digits
		`h3="host:443:1"`,   // colon in host
		`h3="[::1:443"`,     // unclosed bracket
		`h3="[nothex]:443"`, // bad IPv6
		`h3="[1.2.3.4]:443"`,
		`h3="[fe80::1%25eth0]:443"`,
		`h3="a b:443"`, // space in host
		`h3="a/b:443"`, // slash in host
		`h3="a@b:443"`, // userinfo
		"h3=\"a\x01:443\"",
		`h3=":443" ma=1`,   // missing ';'
		`h3=":443"; ma`,    // no value
		`h3=":443"; ma=`,   // empty value
		`h3=":443"; ma=-1`, // not delta-seconds
		`h3=":443"; ma=1.5`,
		`h3=":443"; ma="x"`,
		`h3=":443"; =1`,
		`h3=":443";`,
		`h3=":443" h2=":443"`,
		`h%3=":443"`,  // truncated escape
		`h%zz=":443"`, // bad hex
		`h3="\`,       // lone backslash
		`"h3"=":443"`,
		`=":443"`,
		`h3=":443"; p="a\`,
	} {
		got, clear, err := Parse(v)
		var se *SyntaxError
		if !errors.As(err, &se) || got != nil || clear {
			t.Errorf("%q: %+v %v %v", v, got, clear, err)
		}
	}
}

func TestH3(t *testing.T) {
	entries, _, err := Parse(`h3-29=":1", h3=":2", h2=":3", h3="b.example:4"`)
	if err != nil {
		t.Fatal(err)
	}
	got := H3(entries)
	if len(got) != 2 || got[0].Port != 2 || got[1].Host != "b.example" {
		t.Fatalf("%+v", got)
	}
	if H3(nil) != nil {
		t.Fatal("H3(nil)")
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		e    Entry
		want string
	}{
		{Entry{Protocol: "h3", Port: 443, MaxAge: DefaultMaxAge}, `h3=":443"`},
		{Entry{Protocol: "h3", Host: "alt.example", Port: 8443, MaxAge: time.Hour, Persist: true}, `h3="alt.example:8443"; ma=3600; persist=1`},
		{Entry{Protocol: "h3", Host: "2001:db8::1", Port: 443, MaxAge: DefaultMaxAge}, `h3="[2001:db8::1]:443"`},
		{Entry{Protocol: "w=x:y#z", Port: 1, MaxAge: DefaultMaxAge}, `w%3Dx%3Ay#z=":1"`},
		{Entry{Protocol: "x%y", Port: 1, MaxAge: DefaultMaxAge}, `x%25y=":1"`},
		{Entry{Protocol: "h3", Port: 443}, `h3=":443"; ma=0`},
		{Entry{Protocol: "\x00\xff", Port: 1, MaxAge: DefaultMaxAge}, `%00%FF=":1"`},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.e, got, c.want)
		}
		back, _, err := Parse(c.want)
		if err != nil || len(back) != 1 || back[0] != c.e {
			t.Errorf("%s parsed back as %+v %v", c.want, back, err)
		}
	}
	if Format(nil) != "clear" {
		t.Error("Format(nil)")
	}
	two := []Entry{{Protocol: "h3", Port: 443, MaxAge: DefaultMaxAge}, {Protocol: "h2", Port: 443, MaxAge: time.Second}}
	if got := Format(two); got != `h3=":443", h2=":443"; ma=1` {
		t.Errorf("Format: %s", got)
	}
}

func TestParseNoAllocForPlainValue(t *testing.T) {
	v := `h3=":443"; ma=86400`
	n := testing.AllocsPerRun(100, func() { _, _, _ = Parse(v) })
	if n > 1 { // the returned slice
		t.Fatalf("%v allocations", n)
	}
}

// FuzzAltSvc parses arbitrary values; an accepted value formats to a value
// that parses to the same entries, and that is already canonical.
func FuzzAltSvc(f *testing.F) {
	for _, s := range []string{
		`h3=":443"; ma=86400, h3-29=":443"; ma=86400`,
		`h2="new.example.org:80"; persist=1`,
		`w%3Dx%3Ay#z="[2001:db8::1]:1"`,
		`clear`,
		`h3="a\"b:1"`,
		`h3=":443"; x="y\\z"; ma=5`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		entries, clear, err := Parse(v)
		if err != nil {
			if entries != nil || clear {
				t.Fatal("entries with an error")
			}
			return
		}
		if clear {
			return
		}
		s := Format(entries)
		again, clear2, err := Parse(s)
		if err != nil || clear2 || !reflect.DeepEqual(entries, again) {
			t.Fatalf("%q -> %q -> %+v %v", v, s, again, err)
		}
		if Format(again) != s {
			t.Fatalf("format not canonical: %q", s)
		}
	})
}

func TestAddr(t *testing.T) {
	for _, c := range []struct {
		e      Entry
		origin string
		want   string
	}{
		{Entry{Port: 443}, "example.com", "example.com:443"},
		{Entry{Host: "alt.example", Port: 8443}, "example.com", "alt.example:8443"},
		{Entry{Host: "2001:db8::1", Port: 443}, "example.com", "[2001:db8::1]:443"},
		{Entry{Port: 443}, "::1", "[::1]:443"},
	} {
		if got := c.e.Addr(c.origin); got != c.want {
			t.Errorf("%+v: %s", c.e, got)
		}
	}
}
