package endpoint

import (
	"slices"
	"testing"
)

func TestParseHQRequest(t *testing.T) {
	for line, want := range map[string]string{
		"GET /file-one\r\n":         "file-one",
		"GET /dir/x\r\n":            "dir/x",
		"GET /file":                 "file",
		"GET /../../etc/passwd\r\n": "etc/passwd", // cleaned, and os.Root keeps it inside anyway
		"GET /\r\n":                 "",
		"POST /x\r\n":               "",
		"GET x\r\n":                 "",
		"GET /a b\r\n":              "",
		"GET /a\x00\r\n":            "",
	} {
		got, ok := parseHQRequest(line)
		if ok != (want != "") || got != want {
			t.Errorf("%q: %q %v, want %q", line, got, ok, want)
		}
	}
}

func FuzzParseHQRequest(f *testing.F) {
	f.Add("GET /x\r\n")
	f.Fuzz(func(t *testing.T, line string) {
		if name, ok := parseHQRequest(line); ok && (name == "" || name[0] == '/' || name == ".." || len(name) > 2 && name[:3] == "../") {
			t.Errorf("%q gives %q", line, name)
		}
	})
}

func TestParseVersionNegotiation(t *testing.T) {
	vn := []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf}
	vs, err := ParseVersionNegotiation(vn)
	if err != nil || !slices.Equal(vs, []uint32{1, 0x6b3343cf}) {
		t.Errorf("got %x, %v", vs, err)
	}
	for _, bad := range [][]byte{
		ProbeDatagram(),                         // not version 0
		{0x80, 0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 1}, // a connection ID the probe did not have
		{0x80, 0, 0, 0, 0, 0, 0, 0, 0},          // a partial version
		{0x80, 0, 0, 0, 0, 0, 0},                // no versions
	} {
		if _, err := ParseVersionNegotiation(bad); err == nil {
			t.Errorf("%x parses", bad)
		}
	}
}

func FuzzParseVersionNegotiation(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) { ParseVersionNegotiation(b) })
}

func TestProbeDatagram(t *testing.T) {
	p := ProbeDatagram()
	if len(p) != 1207 || p[0]&0xc0 != 0xc0 || p[1] != 0x57 || p[4] != 0x54 || p[5] != 0 || p[6] != 0 {
		t.Errorf("probe %x…", p[:8])
	}
}

func TestPlan(t *testing.T) {
	env, err := LoadEnv(func(k string) string {
		return map[string]string{"ROLE": "client", "REQUESTS": "https://s:443/a https://s:443/b https://s:443/c"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	sizes := func() []int {
		var n []int
		for _, c := range env.Plan() {
			n = append(n, len(c))
		}
		return n
	}
	for tc, want := range map[string][]int{"transfer": {3}, "multiconnect": {1, 1, 1}, "resumption": {1, 2}, "zerortt": {1, 2}} {
		env.TestCase = tc
		if got := sizes(); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc, got, want)
		}
	}
	if got := HostPort(env.Requests[0]); got != "s:443" {
		t.Errorf("HostPort %q", got)
	}
}
