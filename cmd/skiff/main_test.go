package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// startPerfServer runs a perf server on loopback until the test ends and
// returns its address.
func startPerfServer(t *testing.T) string {
	t.Helper()
	cert, _, err := selfsigned.New("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{perfALPN}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go servePerf(context.Background(), ln)
	return ln.Addr().String()
}

func TestPerfClientAgainstServer(t *testing.T) {
	addr := startPerfServer(t)
	var out, errOut bytes.Buffer
	code := run([]string{"perf", "client", "--insecure", "--verify", "--upload", "3M", "--download", "5M", "--streams", "4", "--timeout", "1m", addr}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res perfResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res.UploadBytes != 4*3<<20 || res.DownloadBytes != 4*5<<20 || res.Streams != 4 || res.HandshakeMs <= 0 || res.TotalSeconds <= 0 {
		t.Fatalf("result %+v", res)
	}
}

// --cc bbr: the client's connection runs BBR and says so; an unknown
// name is a usage error.
func TestPerfClientCongestionFlag(t *testing.T) {
	addr := startPerfServer(t)
	var out, errOut bytes.Buffer
	code := run([]string{"perf", "client", "--insecure", "--cc", "bbr", "--upload", "1M", "--download", "2M", "--timeout", "1m", addr}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res perfResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res.Congestion != "bbr" || res.DownloadBytes != 2<<20 {
		t.Fatalf("result %+v", res)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"perf", "client", "--cc", "vegas", "127.0.0.1:9"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "vegas") {
		t.Fatalf("--cc vegas: exit %d, %q", code, errOut.String())
	}
}

func TestPerfClientFailsWithoutServer(t *testing.T) {
	var out, errOut bytes.Buffer
	// A closed port: the handshake times out quickly (no server answers).
	code := run([]string{"perf", "client", "--insecure", "--timeout", "300ms", "127.0.0.1:9"}, &out, &errOut)
	if code == 0 || out.Len() != 0 {
		t.Fatalf("exit %d, output %q: want failure and no JSON", code, out.String())
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "1234": 1234, "64K": 64 << 10, "10M": 10 << 20, "1G": 1 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseSize("12X"); err == nil {
		t.Error("parseSize accepted 12X")
	}
}

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := demo(&out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	// The story: TCP (Alt-Svc learned into the file), HTTP/3, then TCP
	// again with the alternative marked broken.
	acts := regexp.MustCompile(`(?m)^  HTTP/(\S+) +200 `).FindAllStringSubmatch(s, -1)
	if len(acts) != 3 || acts[0][1] != "2" || acts[1][1] != "3" || acts[2][1] != "2" {
		t.Errorf("the three gets went over %v, want HTTP/2, HTTP/3, HTTP/2:\n%s", acts, s)
	}
	for _, want := range []string{"Alt-Svc learned for https://127.0.0.1:", "alt-svc.txt now holds", "\n    h2 127.0.0.1 ", "no longer listens", "HTTP/3 (QUIC to 127.0.0.1:", "marked broken until"} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	// The bulk transfers.
	if got := strings.Count(s, "HTTP/3.0 200"); got != 4 {
		t.Errorf("demo printed %d HTTP/3 bulk responses, want 4:\n%s", got, s)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("no arguments: exit %d, %q", code, errOut.String())
	}
	if code := run([]string{"bogus"}, &out, &errOut); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}
