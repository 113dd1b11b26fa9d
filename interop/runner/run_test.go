package runner

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// buildEndpoints compiles both endpoint binaries for a test.
func buildEndpoints(t *testing.T) (skiff, quicgo Impl) {
	t.Helper()
	dir := t.TempDir()
	skiff = Impl{Name: "skiff", Binary: filepath.Join(dir, "skiff-endpoint")}
	quicgo = Impl{Name: "quic-go", Binary: filepath.Join(dir, "quicgo-endpoint")}
	for _, impl := range []Impl{skiff, quicgo} {
		out, err := exec.Command("go", "build", "-o", impl.Binary, "../cmd/"+filepath.Base(impl.Binary)).CombinedOutput()
		if err != nil {
			t.Fatalf("build: %v: %s", err, out)
		}
	}
	return skiff, quicgo
}

func freePort(t *testing.T) uint16 {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// The whole pipeline on loopback, endpoint binaries and all: a few cases
// between skiff and quic-go in both roles pass their checks, and a case
// one side lacks is reported unsupported.
func TestRunCaseLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the endpoint binaries")
	}
	skiff, quicgo := buildEndpoints(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	for _, impl := range []Impl{skiff, quicgo} {
		if err := CheckUnknownCase(ctx, impl); err != nil {
			t.Fatal(err)
		}
	}
	opts := &Options{Topology: Loopback(freePort(t)), Dir: t.TempDir(), Seed: 1}
	cases := map[string]*Case{}
	for _, c := range Cases() {
		cases[c.Name] = &c
	}
	for _, tc := range []struct {
		name           string
		server, client Impl
		want           Status
	}{
		{"handshake", skiff, quicgo, Pass},
		{"retry", quicgo, skiff, Pass},
		{"retry", skiff, quicgo, Pass},
		{"ecn", skiff, skiff, Pass},
		{"connectionmigration", skiff, skiff, Pass},
		{"rebind-port", skiff, skiff, Pass},
		{"zerortt", skiff, skiff, Pass},
		{"v2", skiff, quicgo, Unsupported},
		{"crosstraffic", quicgo, quicgo, Unsupported}, // needs namespaces
	} {
		r := RunCase(ctx, opts, cases[tc.name], tc.server, tc.client)
		if r.Status != tc.want {
			t.Errorf("%s %s→%s: %s %s, want %s (logs in %s)", tc.name, tc.server.Name, tc.client.Name, r.Status, r.Reason, tc.want, r.Dir)
		}
	}
}
