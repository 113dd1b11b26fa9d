package endpoint_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffnet/skiff/interop/endpoint"
	"github.com/skiffnet/skiff/interop/endpoint/quicgoep"
	"github.com/skiffnet/skiff/interop/endpoint/skiffep"
	"github.com/skiffnet/skiff/interop/runner"
)

var impls = []endpoint.Impl{skiffep.Impl(), quicgoep.Impl()}

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// An unknown test case, and every known one an implementation lacks, makes
// the endpoint exit 127 in both roles, before it needs anything else.
func TestUnsupportedExits127(t *testing.T) {
	for _, impl := range impls {
		for _, role := range []endpoint.Role{endpoint.Client, endpoint.Server} {
			cases := []string{"no-such-test-" + rand.Text()[:8], ""}
			for tc, s := range impl.Cases {
				if (role == endpoint.Client && !s.Client) || (role == endpoint.Server && !s.Server) {
					cases = append(cases, tc)
				}
			}
			for _, tc := range cases {
				var stderr bytes.Buffer
				code := endpoint.Run(t.Context(), impl, getenv(map[string]string{"ROLE": string(role), "TESTCASE": tc}), &stderr)
				if code != endpoint.ExitUnsupported {
					t.Errorf("%s %s TESTCASE=%q: exit %d, want 127 (%s)", impl.Name, role, tc, code, stderr.String())
				}
			}
		}
	}
}

// testDirs makes the runner's directories for one run: certificates, a
// www with files of the given sizes, downloads.
func testDirs(t *testing.T, sizes map[string]int) (certs, www, downloads string) {
	t.Helper()
	dir := t.TempDir()
	certs, www, downloads = filepath.Join(dir, "certs"), filepath.Join(dir, "www"), filepath.Join(dir, "downloads")
	if err := runner.WriteCerts(certs, 1, []string{"127.0.0.1", "localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, n := range sizes {
		b := make([]byte, n)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(www, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return certs, www, downloads
}

// freeUDPPort returns a port nothing listened on a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startServer runs impl's server for testcase on loopback and waits for it
// to answer the readiness probe; it returns the address and the versions
// the Version Negotiation listed.
func startServer(t *testing.T, impl endpoint.Impl, testcase, certs, www string) (string, []uint32) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	return addr, startServerAt(t, impl, testcase, certs, www, addr, addr)
}

// startServerAt runs a server listening on listen and waits until it
// answers the probe at probe.
func startServerAt(t *testing.T, impl endpoint.Impl, testcase, certs, www, listen, probe string) []uint32 {
	t.Helper()
	addr := listen
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- endpoint.Run(ctx, impl, getenv(map[string]string{
			"ROLE": "server", "TESTCASE": testcase, "CERTS_DIR": certs, "WWW_DIR": www, "LISTEN_ADDR": addr,
		}), &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%s server exited %d: %s", impl.Name, code, stderr.String())
		}
	})
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	defer pcancel()
	c, err := net.Dial("udp", probe)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vs, err := endpoint.WaitReady(pctx, c, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("%s server on %s: %v (%s)", impl.Name, listen, err, stderr.String())
	}
	return vs
}

// Both servers answer the simulator's readiness probe (version 0x57414954,
// empty connection IDs, 1207 bytes) with Version Negotiation listing
// version 1.
func TestReadinessProbe(t *testing.T) {
	for _, impl := range impls {
		certs, www, _ := testDirs(t, nil)
		_, vs := startServer(t, impl, "handshake", certs, www)
		found := false
		for _, v := range vs {
			found = found || v == 1
		}
		if !found {
			t.Errorf("%s: Version Negotiation lists %x, not version 1", impl.Name, vs)
		}
	}
}

// A server told to listen on ":port", as in the runner (":443"), answers
// over IPv4 and over IPv6.
func TestReadinessBothFamilies(t *testing.T) {
	for _, impl := range impls {
		for _, probe := range []string{"127.0.0.1", "::1"} {
			certs, www, _ := testDirs(t, nil)
			port := fmt.Sprint(freeUDPPort(t))
			startServerAt(t, impl, "handshake", certs, www, ":"+port, net.JoinHostPort(probe, port))
		}
	}
}

// Every pair of implementations fetches files over loopback for the test
// cases both support, and the files arrive byte-identical.
func TestPairs(t *testing.T) {
	cases := map[string]map[string]int{
		"handshake":    {"a-small-file": 1024},
		"transfer":     {"file-one": 300_000, "file-two": 200_000},
		"multiconnect": {"m-1": 1000, "m-2": 1000, "m-3": 1000},
		"http3":        {"h-1": 5000, "h-2": 70_000},
		"chacha20":     {"c-1": 50_000},
		"retry":        {"r-1": 10_000},
		"resumption":   {"s-1": 5000, "s-2": 10_000},
		"zerortt":      {"z-1": 32, "z-2": 32, "z-3": 32},
	}
	for _, server := range impls {
		for _, client := range impls {
			for tc, files := range cases {
				if !server.Cases.Supports(endpoint.Server, tc) || !client.Cases.Supports(endpoint.Client, tc) {
					continue
				}
				t.Run(fmt.Sprintf("%s-%s-%s", server.Name, client.Name, tc), func(t *testing.T) {
					if raceEnabled && client.Name == "quic-go" && tc == "zerortt" {
						// quic-go's client writes the peer's transport parameters
						// while a 0-RTT stream reads them (quic-go issue #4303,
						// open): the race detector fails the test for quic-go's
						// own race. The pair runs without -race (make test's
						// second interop pass) and in make interop.
						t.Skip("quic-go's 0-RTT client races under -race (quic-go#4303)")
					}
					runPair(t, server, client, tc, files)
				})
			}
		}
	}
}

func runPair(t *testing.T, server, client endpoint.Impl, tc string, files map[string]int) {
	certs, www, downloads := testDirs(t, files)
	addr, _ := startServer(t, server, tc, certs, www)
	var urls []string
	for name := range files {
		urls = append(urls, "https://"+addr+"/"+name)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	code := endpoint.Run(ctx, client, getenv(map[string]string{
		"ROLE": "client", "TESTCASE": tc, "CERTS_DIR": certs, "DOWNLOADS_DIR": downloads,
		"REQUESTS": strings.Join(urls, " "), "VERIFY_PEER": "1",
	}), &stderr)
	if code != 0 {
		t.Fatalf("client exited %d: %s", code, stderr.String())
	}
	for name := range files {
		want, _ := os.ReadFile(filepath.Join(www, name))
		got, err := os.ReadFile(filepath.Join(downloads, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes (%v), want %d identical", name, len(got), err, len(want))
		}
	}
}

var _ = io.EOF
