package h3

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func origin(host string, port int) Origin { return Origin{Scheme: "https", Host: host, Port: port} }

// What a store writes, a new store on the same file loads: origins in
// order, alternatives in preference order, other hosts, IPv6, persist.
func TestAltSvcFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alt-svc.txt")
	f, err := NewAltSvcFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	want := map[Origin][]Alternative{
		origin("example.com", 443): {
			{Protocol: "h3", Port: 443, Expires: exp, Source: "h2"},
			{Protocol: "h3", Host: "alt.example.com", Port: 8443, Expires: exp, Source: "h2"},
		},
		origin("2001:db8::1", 8443): {{Protocol: "h3", Port: 9443, Expires: exp, Persist: true, Source: "h1"}},
		origin("h3.example", 443):   {{Protocol: "h3", Host: "2001:db8::2", Port: 443, Expires: exp, Source: "h3"}},
	}
	for o, alts := range want {
		f.SetAlternatives(o, alts)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := NewAltSvcFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	for o, alts := range want {
		got := g.Alternatives(o, time.Now())
		if fmt.Sprint(got) != fmt.Sprint(alts) {
			t.Errorf("%v: loaded %v, want %v", o, got, alts)
		}
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte("h2 example.com 443 h3 alt.example.com 8443 \""+exp.Format("20060102 15:04:05")+"\" 0 0\n")) ||
		!bytes.Contains(data, []byte("h1 [2001:db8::1] 8443 h3 [2001:db8::1] 9443 ")) {
		t.Errorf("file not in curl's format:\n%s", data)
	}
	// Clearing on a network change keeps only persist=1, on disk too.
	g.ClearNonPersistent()
	h, _ := NewAltSvcFile(path, 0)
	if h.cache.Len() != 1 || len(h.Alternatives(origin("2001:db8::1", 8443), time.Now())) != 1 {
		t.Errorf("after ClearNonPersistent the file holds %d origins, want the persistent one", h.cache.Len())
	}
}

// A file written by hand in curl's format loads: h3 entries only, fresh
// ones only, hosts and ports as written.
func TestAltSvcFileCurlSample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alt-svc.txt")
	data, err := os.ReadFile("testdata/altsvc-curl.txt")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, data, 0o600)
	f, err := NewAltSvcFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	exp := time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		o    Origin
		want []Alternative
	}{
		{origin("example.com", 443), []Alternative{
			{Protocol: "h3", Port: 443, Expires: exp, Source: "h2"},
			{Protocol: "h3", Host: "alt.example.com", Port: 8443, Expires: exp, Source: "h2"},
		}},
		{origin("www.example.org", 443), nil},
		{origin("2001:db8::1", 443), []Alternative{{Protocol: "h3", Port: 443, Expires: exp, Persist: true, Source: "h2"}}},
		{origin("cdn.example.net", 8443), []Alternative{{Protocol: "h3", Port: 9443, Expires: exp, Source: "h3"}}},
		{origin("old.example.com", 443), nil},
	} {
		if got := f.Alternatives(tc.o, now); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v: %v, want %v", tc.o, got, tc.want)
		}
	}
}

// A corrupt or foreign file loads what it can and never fails.
func TestAltSvcFileCorrupt(t *testing.T) {
	good := `h2 ok.example 443 h3 ok.example 443 "20991231 23:59:59" 0 0`
	for name, content := range map[string]string{
		"garbage":      "\x00\xff\xfe binary \n\n\r\n" + good + "\n",
		"short lines":  "h2 a 443 h3\nh2 a 443 h3 a 443 \"2099\" 0 0\n" + good,
		"bad numbers":  "h2 a 0 h3 a 443 \"20991231 23:59:59\" 0 0\nh2 a 443 h3 a 70000 \"20991231 23:59:59\" 0 0\nh2 a 443 h3 a 443 \"20991231 23:59:59\" 2 0\n" + good,
		"bad hosts":    "h2 [::1 443 h3 a 443 \"20991231 23:59:59\" 0 0\nh2 a:b 443 h3 a 443 \"20991231 23:59:59\" 0 0\n" + good,
		"bad date":     "h2 a 443 h3 a 443 \"20991340 23:59:59\" 0 0\nh2 a 443 h3 a 443 20991231 23:59:59 0 0\n" + good,
		"long line":    strings.Repeat("x", 10000) + "\n" + good,
		"crlf":         strings.ReplaceAll(good, " 0 0", " 0 0\r") + "\n",
		"foreign json": `{"h3": ["alt"]}` + "\n" + good,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "alt-svc.txt")
			os.WriteFile(path, []byte(content), 0o600)
			f, err := NewAltSvcFile(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if f.cache.Len() != 1 || len(f.Alternatives(origin("ok.example", 443), time.Now())) != 1 {
				t.Fatalf("loaded %d origins, want just ok.example", f.cache.Len())
			}
		})
	}
	// A file that cannot be written is reported by Err, and the store
	// still works in memory.
	f, err := NewAltSvcFile(filepath.Join(t.TempDir(), "missing-dir", "alt-svc.txt"), 0)
	if err != nil {
		t.Fatal(err)
	}
	f.SetAlternatives(origin("a.example", 443), []Alternative{{Protocol: "h3", Port: 443, Expires: time.Now().Add(time.Hour)}})
	if f.Err() == nil {
		t.Fatal("a failed write was not reported")
	}
	if len(f.Alternatives(origin("a.example", 443), time.Now())) != 1 {
		t.Fatal("the store lost its entry when the file could not be written")
	}
}

// Writers in one process and in two stores on one file never leave a
// partial file or temporary files behind: every line parses, and the file
// is one writer's whole version.
func TestAltSvcFileConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alt-svc.txt")
	stores := make([]*AltSvcFile, 2)
	for i := range stores {
		var err error
		if stores[i], err = NewAltSvcFile(path, 0); err != nil {
			t.Fatal(err)
		}
	}
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for i := range 50 {
				s.SetAlternatives(origin(fmt.Sprintf("w%d-%d.example", w, i), 443),
					[]Alternative{{Protocol: "h3", Port: 443 + i, Expires: exp, Source: "h2"}})
			}
		}()
	}
	wg.Wait()
	for _, s := range stores {
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines++
		}
	}
	entries := parseAltSvcFile(data)
	if len(entries) != lines || lines == 0 {
		t.Fatalf("%d of %d lines parse", len(entries), lines)
	}
	// The store that wrote last holds 200 origins, all in the file.
	if lines != 200 {
		t.Fatalf("file holds %d entries, want one store's 200", lines)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// A Transport with a file store learns into the file, and a new Transport
// on it starts with HTTP/3.
func TestAltSvcFileTransport(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "alt-svc.txt")
	store, err := NewAltSvcFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := newDiscoEnv(t, discoOptions{}, func(tr *Transport) { tr.AltSvc = store })
	store.now = e.clock.Now
	e.advertise("")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	data, _ := os.ReadFile(path)
	want := fmt.Sprintf("h2 127.0.0.1 %d h3 127.0.0.1 %d ", e.tcpAddr.Port(), e.h3Addr.Port())
	if !strings.Contains(string(data), want) {
		t.Fatalf("file lacks %q:\n%s", want, data)
	}
	store2, err := NewAltSvcFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	store2.now = e.clock.Now
	// A new Transport (a new process) on the file: HTTP/3 at once.
	e.tr.CloseIdleConnections()
	old := e.tr
	e.tr = &Transport{TLSClientConfig: old.TLSClientConfig, TCP: old.TCP, AltSvc: store2, now: e.clock.Now, Trace: e.events.trace()}
	e.mustGet(ctx, "/2", "HTTP/3.0")
	e.tr.CloseIdleConnections()
}

func FuzzAltSvcFile(f *testing.F) {
	sample, _ := os.ReadFile("testdata/altsvc-curl.txt")
	f.Add(sample)
	f.Add([]byte(`h2 a 1 h3 [::1] 2 "20991231 23:59:59" 1 7`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries := parseAltSvcFile(data)
		// What parses, written back, parses to the same entries.
		var b []byte
		for _, e := range entries {
			b = appendAltSvcLine(b, e.origin, e.alt)
		}
		again := parseAltSvcFile(b)
		if fmt.Sprint(again) != fmt.Sprint(entries) {
			t.Fatalf("round trip changed the entries:\n%v\n%v\n%s", entries, again, b)
		}
	})
}
