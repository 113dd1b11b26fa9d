package perfinterop

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/skiffnet/skiff/interop/perf"
)

// transferBytes is what each direction moves: 1 GiB, as the perf issue
// asks; 128 MiB under the race detector (the quic-go side is instrumented
// and several times slower). SKIFF_PERF_INTEROP_BYTES overrides both.
func transferBytes(t *testing.T) int64 {
	if s := os.Getenv("SKIFF_PERF_INTEROP_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if raceEnabled {
		return 128 << 20
	}
	return 1 << 30
}

// buildSkiff builds the skiff command once per test binary.
func buildSkiff(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "skiff")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/skiffnet/skiff/cmd/skiff")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building skiff: %v\n%s", err, out)
	}
	return bin
}

type perfResult struct {
	UploadBytes   uint64  `json:"uploadBytes"`
	DownloadBytes uint64  `json:"downloadBytes"`
	HandshakeMs   float64 `json:"handshakeMs"`
	TotalSeconds  float64 `json:"totalSeconds"`
}

func TestSkiffPerfClientQuicGoServer(t *testing.T) {
	size := transferBytes(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cred, err := perf.NewCredentials(net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := perf.QuicGo().Listen("127.0.0.1:0", cred)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	uploads := make(chan perf.Upload, 1)
	srv := &perf.Server{VerifyUpload: true, OnStream: func(u perf.Upload) { uploads <- u }}
	go srv.Serve(ctx, ln)

	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cred.Certificate.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildSkiff(t)
	cmd := exec.CommandContext(ctx, bin, "perf", "client", "--cacert", ca, "--verify",
		"--upload", strconv.FormatInt(size, 10), "--download", strconv.FormatInt(size, 10), ln.Addr().String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skiff perf client: %v", err)
	}
	var res perfResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res.UploadBytes != uint64(size) || res.DownloadBytes != uint64(size) {
		t.Fatalf("result %+v, want %d bytes each way", res, size)
	}
	// The quic-go server verified the upload against the pattern.
	if u := <-uploads; u.Bytes != size {
		t.Fatalf("quic-go server received %d bytes, want %d", u.Bytes, size)
	}
	t.Logf("skiff client ↔ quic-go server: %d MiB each way in %.2f s (handshake %.2f ms)", size>>20, res.TotalSeconds, res.HandshakeMs)
}

func TestQuicGoPerfClientSkiffServer(t *testing.T) {
	size := transferBytes(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	bin := buildSkiff(t)
	dir := t.TempDir()
	cred, err := perf.NewCredentials(net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", cred.Certificate.Certificate[0])
	writePEM(t, keyFile, "PRIVATE KEY", marshalKey(t, cred))

	cmd := exec.CommandContext(ctx, bin, "perf", "server", "--listen", "127.0.0.1:0", "--cert", certFile, "--key", keyFile)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// The server says where it listens on its first line.
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() {
		t.Fatal("skiff perf server said nothing")
	}
	m := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(sc.Text())
	if m == nil {
		t.Fatalf("unexpected first line %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
			t.Log("server:", sc.Text())
		}
	}()

	d, err := perf.QuicGo().NewDialer(cred)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	conn, err := d.Dial(ctx, m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	n, err := perf.Do(ctx, conn, perf.Request{Upload: size, Download: uint64(size), Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Fatalf("downloaded %d bytes, want %d", n, size)
	}
	t.Logf("quic-go client ↔ skiff server: %d MiB each way in %.2f s", size>>20, time.Since(start).Seconds())
}

func writePEM(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
