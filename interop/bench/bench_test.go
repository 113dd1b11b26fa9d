package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/skiffnet/skiff/interop/perf"
)

// TestMain lets the test binary be its own peer: run with SKIFF_PERF_PEER
// set to an IP address, it serves perf there on stdin/stdout's command
// channel instead of running tests.
func TestMain(m *testing.M) {
	if host := os.Getenv("SKIFF_PERF_PEER"); host != "" {
		if err := RunPeer(context.Background(), host, perf.Transports(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startTestPeer(t *testing.T, ctx context.Context) *Peer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SKIFF_PERF_PEER=127.0.0.1")
	cmd.Stderr = os.Stderr
	p, err := StartPeer(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("peer: %v", err)
		}
	})
	return p
}

// TestHarnessShort runs every figure for every transport with small sizes
// and every payload byte checked, against a peer process, so that the
// harness cannot rot. It asserts that every figure was measured, not how
// fast anything is.
func TestHarnessShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	p := startTestPeer(t, ctx)
	cfg := Config{
		Bytes: 1 << 20, Handshakes: 4, Parallel: 2, Requests: 40, InFlight: 8,
		RequestUp: 1024, RequestDown: 4096, IdleConns: 10, Runs: 2, Verify: true, Path: "loopback",
	}
	r := &Runner{Peer: p, Transports: perf.Transports(), Config: cfg}
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 16 {
		t.Errorf("got %d rows, want 16", len(rep.Rows))
	}
	for _, row := range rep.Rows {
		for i, v := range row.Values {
			// Allocation and memory growth may be zero or even negative
			// (GC noise) with tiny sizes; everything must be measured
			// (but resumption over TCP+TLS).
			if strings.Contains(row.Metric, "resumed") && rep.Transports[i] == "tcp+tls" {
				if v.OK {
					t.Errorf("%s: tcp+tls measured", row.Metric)
				}
				continue
			}
			if !v.OK || v.V != v.V {
				t.Errorf("%s: %s: not measured", row.Metric, rep.Transports[i])
			}
			if strings.Contains(row.Metric, "/s") && v.V <= 0 {
				t.Errorf("%s: %s: got %v, want a positive rate", row.Metric, rep.Transports[i], v.V)
			}
		}
	}
	var b bytes.Buffer
	rep.Markdown(&b)
	t.Logf("report (tiny sizes, numbers meaningless):\n%s", b.String())
	for _, want := range []string{"| figure | skiff | quic-go (÷ skiff) | tcp+tls (÷ skiff) |", "bulk download, Gbit/s", "requests/s", "kernel"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPeerProtocol checks the peer's command channel.
func TestPeerProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p := startTestPeer(t, ctx)
	for _, tr := range perf.Transports() {
		if p.Addrs[tr.Name] == "" {
			t.Errorf("peer does not announce %s", tr.Name)
		}
	}
	if _, err := p.CPU(ctx); err != nil {
		t.Error(err)
	}
	m, err := p.Mem(ctx)
	if err != nil || m.Heap <= 0 || m.Goroutines <= 0 {
		t.Errorf("mem: %+v, %v", m, err)
	}
	if _, err := p.command(ctx, "nonsense", 0); err == nil {
		t.Error("unknown command accepted")
	}
}

// TestSideBySideReport is the full report of `make bench`, skipped unless
// SKIFF_BENCH=1; sizes come from the SKIFF_BENCH_* variables (see
// Config.FromEnv). cmd/benchreport runs the same thing as a program.
func TestSideBySideReport(t *testing.T) {
	if os.Getenv("SKIFF_BENCH") != "1" {
		t.Skip("set SKIFF_BENCH=1 to run the side-by-side report")
	}
	cfg, err := DefaultConfig().FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	p := startTestPeer(t, ctx)
	r := &Runner{Peer: p, Transports: perf.Transports(), Config: cfg, Progress: os.Stderr}
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep.Markdown(os.Stdout)
}
