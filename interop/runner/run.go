package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/skiffnet/skiff/interop/endpoint"
	"github.com/skiffnet/skiff/interop/qtrace"
	"github.com/skiffnet/skiff/interop/relay"
)

// Impl is an endpoint binary under test.
type Impl struct {
	Name   string
	Binary string
}

// Status is a run's outcome.
type Status int

// The outcomes.
const (
	Pass Status = iota
	Fail
	Unsupported
)

// Result is the outcome of one case for one server and client.
type Result struct {
	Case           string
	Server, Client string
	Status         Status
	// Reason says why a run failed or is unsupported.
	Reason string
	// Measurement is the figure a measurement case reports; Goodput is
	// the goodput in bit/s.
	Measurement string
	Goodput     float64
	Elapsed     time.Duration
	// Dir holds the run's files and logs.
	Dir string
}

// Run is one case being run: what the checks look at.
type Run struct {
	Case   *Case
	Trace  *qtrace.Trace
	Dir    string
	Result *Result
	// Cross is the TCP cross traffic's goodput in bit/s.
	Cross float64
}

// Options configure a matrix run.
type Options struct {
	Topology *Topology
	// Dir receives each run's certificates, files and logs.
	Dir string
	// Log receives progress lines.
	Log io.Writer
	// Seed varies the random impairments from run to run.
	Seed uint64
}

// defaultTimeout is the runner's time per test.
const defaultTimeout = 60 * time.Second

// RunCase runs one case with a server and a client.
func RunCase(ctx context.Context, o *Options, c *Case, server, client Impl) *Result {
	res := &Result{Case: c.Name, Server: server.Name, Client: client.Name}
	res.Dir = filepath.Join(o.Dir, c.Name, server.Name+"_"+client.Name)
	start := time.Now()
	r := &Run{Case: c, Dir: res.Dir, Result: res}
	err := func() (err error) {
		// A bug in the analysis fails this run, not the matrix.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("runner: panic: %v", p)
			}
		}()
		return runCase(ctx, o, r, server, client)
	}()
	res.Elapsed = time.Since(start)
	var unsup unsupportedError
	switch {
	case errors.As(err, &unsup):
		res.Status, res.Reason = Unsupported, unsup.msg
	case err != nil:
		res.Status, res.Reason = Fail, err.Error()
	}
	if res.Status == Pass {
		// Keep the logs; the files and the capture only matter when a
		// run fails (a full matrix would leave over a gigabyte).
		for _, name := range []string{"www", "downloads", filepath.Join("logs", "capture.pcap")} {
			os.RemoveAll(filepath.Join(res.Dir, name))
		}
	}
	os.WriteFile(filepath.Join(res.Dir, "result.txt"), []byte(fmt.Sprintf("%s %s→%s: %s %s %s (%v)\n",
		c.Name, server.Name, client.Name, res.Status, res.Reason, res.Measurement, res.Elapsed)), 0o644)
	return res
}

type unsupportedError struct{ msg string }

func (e unsupportedError) Error() string { return e.msg }

func runCase(ctx context.Context, o *Options, r *Run, server, client Impl) error {
	c, t := r.Case, o.Topology
	dir := r.Dir
	os.RemoveAll(dir)
	certs, www, downloads, logs := filepath.Join(dir, "certs"), filepath.Join(dir, "www"), filepath.Join(dir, "downloads"), filepath.Join(dir, "logs")
	for _, d := range []string{www, downloads, logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// The client says first whether it supports the case, as the
	// runner's first start of each image does.
	if code, out := probeSupport(ctx, client, endpoint.Client, c.Client); code == endpoint.ExitUnsupported {
		return unsupportedError{fmt.Sprintf("%s client: %s", client.Name, out)}
	}
	v6 := 0
	if c.IPv6 {
		v6 = 1
	}
	hosts := []string{"server", "server4", "server6", "localhost"}
	for _, a := range []netip.Addr{t.ServerAddr[0], t.ServerAddr[1], t.Front[0], t.Front[1]} {
		hosts = append(hosts, a.String())
	}
	if err := WriteCerts(certs, max(c.ChainLen, 1), hosts); err != nil {
		return err
	}
	names, err := writeFiles(www, c.Files)
	if err != nil {
		return err
	}

	serverAddr := netip.AddrPortFrom(t.ServerAddr[v6], t.Port)
	listen := ":443"
	if t.Mode == "loopback" {
		listen = serverAddr.String()
	}
	serverEnv := map[string]string{
		"ROLE": "server", "TESTCASE": c.Server, "SSLKEYLOGFILE": filepath.Join(logs, "keys-server.log"),
		"QLOGDIR": filepath.Join(logs, "qlog-server"), "WWW_DIR": www, "CERTS_DIR": certs, "LISTEN_ADDR": listen,
	}
	var extra []relay.Route
	if c.Server == "connectionmigration" {
		// The server announces the relay's second front as its
		// preferred address and listens behind it (RFC 9000 §9.6).
		route, err := t.preferredRoute(v6)
		if err != nil {
			return err
		}
		extra = []relay.Route{route}
		serverEnv["PREFERRED_ADDRESS"], serverEnv["PREFERRED_LISTEN"] = route.Listen.String(), route.Server.String()
	}
	srv, err := startProcess(ctx, t, t.Server, server.Binary, filepath.Join(logs, "server.log"), serverEnv)
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := waitReady(ctx, t, serverAddr, srv); err != nil {
		if srv.exited() && srv.code == endpoint.ExitUnsupported {
			return unsupportedError{fmt.Sprintf("%s server: %s", server.Name, lastLine(srv.log))}
		}
		return fmt.Errorf("server not ready: %w", err)
	}

	network := c.Network
	network.Seed = o.Seed
	var unshape func()
	if c.CrossTraffic {
		if t.Mode != "namespaces" {
			return unsupportedError{"the cross traffic needs network namespaces"}
		}
		network.Rate = 0 // the kernel's tbf is the bottleneck, shared with TCP
		if unshape, err = t.Shape(c.Network.Rate, c.Network.Queue); err != nil {
			return err
		}
		defer unshape()
	}
	front := netip.AddrPortFrom(t.Front[v6], 0)
	if t.Mode == "namespaces" {
		front = netip.AddrPortFrom(t.Front[v6], 443)
	}
	rl, err := relay.Start(relay.Config{
		Network: network, Listen: front, Server: serverAddr, Outbound: t.Outbound[v6], ListenUDP: t.ListenUDP,
		Extra: extra,
	})
	if err != nil {
		return err
	}
	defer rl.Close()
	var cross *crossTraffic
	if c.CrossTraffic {
		if cross, err = startCrossTraffic(t); err != nil {
			return err
		}
	}

	var urls []string
	for _, n := range names {
		urls = append(urls, "https://"+rl.Addr().String()+"/"+n)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := startProcess(cctx, t, t.Client, client.Binary, filepath.Join(logs, "client.log"), map[string]string{
		"ROLE": "client", "TESTCASE": c.Client, "SSLKEYLOGFILE": filepath.Join(logs, "keys-client.log"),
		"QLOGDIR": filepath.Join(logs, "qlog-client"), "DOWNLOADS_DIR": downloads, "CERTS_DIR": certs,
		"REQUESTS": strings.Join(urls, " "), "VERIFY_PEER": "1",
	})
	if err != nil {
		return err
	}
	clientErr := cl.wait()
	if cross != nil {
		r.Cross = cross.stop()
	}
	srv.stop()
	rl.Close()
	// The trace is written whatever happened, for debugging.
	keylog := qtrace.KeyLog{}
	for _, f := range []string{"keys-server.log", "keys-client.log"} {
		data, _ := os.ReadFile(filepath.Join(logs, f))
		keylog.Parse(data)
	}
	r.Trace = qtrace.Analyze(rl.Capture(), keylog)
	writeTrace(filepath.Join(logs, "trace.txt"), r.Trace)
	writePcap(filepath.Join(logs, "capture.pcap"), rl, serverAddr)
	switch {
	case cl.code == endpoint.ExitUnsupported:
		return unsupportedError{fmt.Sprintf("%s client: %s", client.Name, lastLine(cl.log))}
	case cctx.Err() != nil:
		return fmt.Errorf("timeout after %v (client: %s)", timeout, lastLine(cl.log))
	case clientErr != nil:
		return fmt.Errorf("client exited %d: %s", cl.code, lastLine(cl.log))
	}
	if err := compareFiles(www, downloads, names); err != nil {
		return err
	}
	if c.Name != "v2" {
		if err := versionOne(r); err != nil {
			return err
		}
	}
	if c.Check != nil {
		if err := c.Check(r); err != nil {
			return err
		}
	}
	if c.Measure {
		g, err := goodput(r)
		if err != nil {
			return err
		}
		r.Result.Goodput = g
		r.Result.Measurement = fmt.Sprintf("%.2f Mbit/s", g/1e6)
		if c.CrossTraffic {
			r.Result.Measurement = fmt.Sprintf("%.2f Mbit/s, TCP %.2f", g/1e6, r.Cross/1e6)
		}
	}
	return nil
}

// probeSupport starts impl with nothing but its role and a test case: it
// exits 127 at once if it does not support the case.
func probeSupport(ctx context.Context, impl Impl, role endpoint.Role, testcase string) (int, string) {
	cmd := exec.CommandContext(ctx, impl.Binary)
	cmd.Env = append(os.Environ(), "ROLE="+string(role), "TESTCASE="+testcase, "REQUESTS=", "WWW_DIR=/nonexistent", "LISTEN_ADDR=invalid")
	out, _ := cmd.CombinedOutput()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return code, strings.TrimSpace(string(out))
}

// CheckUnknownCase is the runner's first step for an implementation: it
// must exit 127 for a test case that does not exist, in both roles.
func CheckUnknownCase(ctx context.Context, impl Impl) error {
	name := "unknown-" + strings.ToLower(rand.Text()[:8])
	for _, role := range []endpoint.Role{endpoint.Client, endpoint.Server} {
		if code, out := probeSupport(ctx, impl, role, name); code != endpoint.ExitUnsupported {
			return fmt.Errorf("%s as %s with TESTCASE=%s exits %d, want 127: %s", impl.Name, role, name, code, out)
		}
	}
	return nil
}

// process is an endpoint running.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	code int
	err  error
}

func startProcess(ctx context.Context, t *Topology, ns, binary, logFile string, env map[string]string) (*process, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := t.Command(ctx, ns, binary)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = f, f
	// Stop it with SIGTERM, as docker does, and give it time to close.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &process{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) wait() error {
	<-p.done
	return p.err
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 3 s.
func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady probes the server from the sim namespace, as the simulator
// does, until it answers with Version Negotiation or exits.
func waitReady(ctx context.Context, t *Topology, server netip.AddrPort, p *process) error {
	var c net.Conn
	err := t.Do(t.Sim, func() (err error) {
		c, err = net.Dial("udp", server.String())
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err = endpoint.WaitReady(ctx, c, 100*time.Millisecond)
	return err
}

func lastLine(file string) string {
	data, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	last := lines[len(lines)-1]
	if len(last) > 300 {
		last = last[:300] + "…"
	}
	return last
}

// writeFiles makes the server's files: random content, hyphenated
// random names, as the runner does.
func writeFiles(dir string, sizes []int) ([]string, error) {
	var names []string
	for _, n := range sizes {
		name := strings.ToLower(rand.Text()[:6] + "-" + rand.Text()[:6])
		b := make([]byte, n)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// compareFiles checks that every file arrived byte-identical (by hash) and
// that nothing else did.
func compareFiles(www, downloads string, names []string) error {
	entries, err := os.ReadDir(downloads)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var extra []string
	for _, e := range entries {
		if !want[e.Name()] {
			extra = append(extra, e.Name())
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("unexpected files downloaded: %v", extra)
	}
	for _, n := range names {
		a, err1 := hashFile(filepath.Join(www, n))
		b, err2 := hashFile(filepath.Join(downloads, n))
		if err2 != nil {
			return fmt.Errorf("file %s missing", n)
		}
		if err1 != nil || !bytes.Equal(a, b) {
			return fmt.Errorf("file %s differs", n)
		}
	}
	return nil
}

func hashFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
