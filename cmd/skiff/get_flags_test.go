package main

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseGetArgs(t *testing.T) {
	env := map[string]string{"SSLKEYLOGFILE": "/env/keys", "QLOGDIR": "/env/qlog"}
	o, err := parseGetArgs([]string{"-sSLkfiv", "-XPUT", "u1", "-ofile", "-o", "-", "-O", "-H", "A: 1", "--header=B: 2",
		"--http3", "--dns-servers", "::1", "-m0.5", "--connect-timeout", "2", "--keylog", "/flag/keys", "-w", "%{http_code}", "--", "-u2"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := &getOptions{
		urls:    []string{"u1", "-u2"},
		outputs: []outputSpec{{file: "file"}, {file: "-"}, {remote: true}},
		silent:  true, showError: true, location: true, insecure: true, fail: true, include: true, verbose: true,
		method: "PUT", headers: []string{"A: 1", "B: 2"}, proto: protoHTTP3, maxTime: 500 * time.Millisecond,
		connectTimeout: 2 * time.Second, keylogFile: "/flag/keys", qlogDir: "/env/qlog", writeOut: "%{http_code}", maxRedirs: 50,
		dnsServer: "[::1]:53",
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("got  %+v\nwant %+v", o, want)
	}
	// Every flag in the table parses, long form and short.
	for _, f := range getFlags {
		args := []string{"--" + f.long}
		if f.arg != "" {
			arg := "1"
			if f.long == "dns-servers" {
				arg = "127.0.0.1:5353,192.0.2.1"
			}
			args = append(args, arg)
		}
		_, err := parseGetArgs(append(args, "u"), func(string) string { return "" })
		if f.long == "help" {
			if err != errHelp {
				t.Errorf("--help: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("--%s: %v", f.long, err)
		}
	}
}

func TestSetHeaders(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://example.invalid/", nil)
	o := &getOptions{userAgent: "ua/1"}
	o.setHeaders(req, &requestSpec{hasBody: true, headers: []string{"content-type: text/plain", "X-A: 1", "x-a: 2", "Accept:", "User-Agent:", "X-E;", "Host: h.test", "junk"}})
	want := http.Header{"Content-Type": {"text/plain"}, "X-A": {"1", "2"}, "User-Agent": {""}, "X-E": {""}}
	if !reflect.DeepEqual(req.Header, want) || req.Host != "h.test" {
		t.Fatalf("headers %v host %q", req.Header, req.Host)
	}
}

func TestWriteOutFormat(t *testing.T) {
	st := &transferStats{status: 404, proto: "HTTP/1.0", header: http.Header{"X-A": {"1", "2"}}, total: 1500 * time.Millisecond, sizeDownload: 3000, urlEffective: "http://h/"}
	var out, warn strings.Builder
	writeOut(&out, `%{http_code} %{http_version} %{time_total} %{speed_download} %{scheme} %header{x-a} 100%% \t\\ \q %{nope} %{open`, st, &warn)
	if got, want := out.String(), "404 1.0 1.500000 2000 http 1, 2 100% \t\\ \\q  %{open"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !strings.Contains(warn.String(), "%{nope}") {
		t.Errorf("no warning for an unknown variable: %q", warn.String())
	}
	for proto, want := range map[string]string{"HTTP/1.1": "1.1", "HTTP/2.0": "2", "HTTP/3.0": "3"} {
		if got := httpVersion(proto); got != want {
			t.Errorf("httpVersion(%q) = %q, want %q", proto, got, want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	p := &progressBar{total: 4 << 20}
	if got, want := p.line(1<<20, time.Second), " 25.0% [#######-----------------------]   1.00 MiB / 4.00 MiB     1.00 MiB/s  ETA 0:03"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	p.total = -1
	if got, want := p.line(3<<30, 3661*time.Second), "  3.00 GiB   859.3 KiB/s  1:01:01 elapsed"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// When the bar draws: a small body done before the first redraw leaves
// nothing; one that takes longer leaves its final state, as does a large
// one however fast. (On a terminal, skiff get of a small body shows
// nothing only when the transfer takes under progressInterval, which a
// loaded machine need not grant: the rule is checked here, on synctest's
// clock.)
func TestProgressDrawsWhen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int64
		took  time.Duration
		drawn bool
	}{
		{"small and quick", 6, 0, false},
		{"small, unknown size, quick", -1, 0, false},
		{"small and slow", 6, progressInterval + time.Millisecond, true},
		{"large and quick", progressMinBytes, 0, true},
	} {
		synctest.Test(t, func(t *testing.T) {
			var w bytes.Buffer
			n := max(tc.total, 6)
			p := runProgress(&w, tc.total, func() int64 { return n })
			time.Sleep(tc.took)
			p.finish()
			if drawn := w.Len() > 0; drawn != tc.drawn {
				t.Errorf("%s: the bar drew %q, want drawn %v", tc.name, w.String(), tc.drawn)
			}
			if tc.drawn && !strings.HasSuffix(w.String(), "\033[K\n") {
				t.Errorf("%s: the bar's last state %q does not end the line", tc.name, w.String())
			}
		})
	}
}
