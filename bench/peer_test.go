package bench

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// The peer is the server side of every benchmark: this test binary run
// again with peerEnv set, so that its CPU time, allocations and heap are
// its own. It prints one line,
//
//	READY cert=<base64 DER> quic=<addr> many=<addr> big=<addr> h3=<addr>
//
// then answers commands on its standard input, one per line:
//
//	stat    ->  stat <CPU ns (user+system)> <mallocs> <system CPU ns>
//	            <context switches> <bytes allocated>
//	mem     ->  mem <live heap bytes> <goroutines>   (after two GCs)
//	settle  ->  settle <connections open> <goroutines beyond the listeners'>
//	            (waits up to 30 s for both to be 0)
//
// and exits when its input ends.

const peerEnv = "SKIFF_BENCH_PEER"

// alpn is the protocol of the quic and many listeners.
const alpn = "skiff-bench"

// idleTimeout is long enough that no connection of a benchmark (10,000
// idle ones take seconds to open) times out while it runs.
const idleTimeout = 5 * time.Minute

// maxDatagram is the MaxDatagramSize of the big listener and its
// clients: the largest UDP payload (RFC 9000 §18.2), which loopback
// carries; path MTU discovery finds it.
const maxDatagram = 65527

// manyStreams is the bidirectional stream limit of the many listener.
const manyStreams = 10000

// Stream operations: the first byte of every stream opened on the quic and
// many listeners says what the peer does with it.
const (
	opDownload = 'D' // then a big-endian uint64 n: the peer sends n bytes and closes
	opUpload   = 'U' // the peer reads to the end, then sends the byte count (uint64) and closes
	opEcho     = 'E' // the peer reads to the end, sends it back and closes
)

// h3Response is the body of every HTTP/3 response.
var h3Response = make([]byte, 4<<10)

func TestMain(m *testing.M) {
	if os.Getenv(peerEnv) != "" {
		if err := runPeer(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench peer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if thePeer != nil {
		thePeer.close()
	}
	os.Exit(code)
}

// writeHeapProfile writes the allocation profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile is as of the last collection
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// peerServer counts the open connections of the quic and many listeners.
type peerServer struct {
	live atomic.Int64
}

func runPeer(in io.Reader, out io.Writer) error {
	// SKIFF_BENCH_PEER_CPUPROFILE=file profiles the peer's CPU for its
	// whole life, the server side of what -cpuprofile shows for the client.
	if path := os.Getenv("SKIFF_BENCH_PEER_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	// SKIFF_BENCH_PEER_MEMPROFILE=file records every allocation of the
	// peer (MemProfileRate 1) and writes the profile when the peer ends, the
	// server side of what -memprofile -memprofilerate=1 shows for the
	// client: go tool pprof -sample_index=alloc_objects -top file.
	if path := os.Getenv("SKIFF_BENCH_PEER_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(os.Stderr, "bench peer:", err)
			}
		}()
	}
	cert, _, err := selfsigned.New("127.0.0.1")
	if err != nil {
		return err
	}
	certs := []tls13.Certificate{cert}
	conf := &quic.Config{TLS: &tls13.Config{Certificates: certs, NextProtos: []string{alpn}}, MaxIdleTimeout: idleTimeout}
	manyConf := *conf
	manyConf.MaxBidiStreams = manyStreams
	bigConf := *conf
	bigConf.MaxDatagramSize = maxDatagram
	h3Conf := &quic.Config{TLS: &tls13.Config{Certificates: certs, NextProtos: []string{h3.NextProtoH3}}, MaxIdleTimeout: idleTimeout}
	var p peerServer
	srv := &h3.Server{Handler: http.HandlerFunc(serveRequest), ErrorLog: log.New(os.Stderr, "bench peer: ", 0)}
	ready := "READY cert=" + base64.StdEncoding.EncodeToString(cert.Certificate[0])
	for _, l := range []struct {
		name  string
		conf  *quic.Config
		serve func(*quic.Conn)
	}{{"quic", conf, serveConn}, {"many", &manyConf, serveConn}, {"big", &bigConf, serveConn}, {"h3", h3Conf, func(c *quic.Conn) { srv.ServeConn(c) }}} {
		ln, err := quic.Listen("udp", "127.0.0.1:0", l.conf)
		if err != nil {
			return err
		}
		defer ln.Close()
		go p.accept(ln, l.serve)
		ready += " " + l.name + "=" + ln.Addr().String()
	}
	// What a settled peer runs: the listeners and nothing else.
	base := runtime.NumGoroutine()
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, ready)
	if err := w.Flush(); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "stat":
			u := selfUsage()
			fmt.Fprintf(w, "stat %d %d %d %d %d\n", u.cpu.Nanoseconds(), u.mallocs, u.sys.Nanoseconds(), u.switches, u.allocBytes)
		case "mem":
			heap, g := liveHeap()
			fmt.Fprintf(w, "mem %d %d\n", heap, g)
		case "settle":
			// Connections close a few round trips after the client's
			// CONNECTION_CLOSE; their goroutines end when they are gone.
			settled := func() bool { return p.live.Load() == 0 && runtime.NumGoroutine() <= base }
			for deadline := time.Now().Add(30 * time.Second); !settled() && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if !settled() {
				fmt.Fprintf(os.Stderr, "bench peer: not settled:\n%s", stacks())
			}
			fmt.Fprintf(w, "settle %d %d\n", p.live.Load(), runtime.NumGoroutine()-base)
		default:
			fmt.Fprintf(w, "error unknown command %q\n", sc.Text())
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// accept serves every connection of ln with serve, which returns when the
// connection ends.
func (p *peerServer) accept(ln *quic.Listener, serve func(*quic.Conn)) {
	for {
		c, err := ln.Accept(context.Background())
		if err != nil {
			return
		}
		p.live.Add(1)
		go func() {
			defer p.live.Add(-1)
			serve(c)
		}()
	}
}

// serveConn serves the streams of a connection of the quic and many
// listeners. It keeps one goroutine waiting in AcceptStream, as a server
// does.
func serveConn(c *quic.Conn) {
	for {
		s, err := c.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go serveStream(s)
	}
}

func serveStream(s *quic.Stream) {
	var hdr [9]byte
	if _, err := io.ReadFull(s, hdr[:1]); err != nil {
		s.Reset(1)
		return
	}
	switch hdr[0] {
	case opDownload:
		if _, err := io.ReadFull(s, hdr[1:]); err != nil {
			s.Reset(1)
			return
		}
		buf := make([]byte, 256<<10)
		for left := binary.BigEndian.Uint64(hdr[1:]); left > 0; {
			n := min(left, uint64(len(buf)))
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
			left -= n
		}
	case opUpload:
		n, err := drain(s)
		if err != nil {
			s.Reset(1)
			return
		}
		s.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
	case opEcho:
		b, err := io.ReadAll(s)
		if err != nil {
			s.Reset(1)
			return
		}
		s.Write(b)
	default:
		s.Reset(2)
		return
	}
	s.Close()
}

// drain reads r to its end and returns how many bytes it read.
func drain(r io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
	var total int64
	for {
		n, err := r.Read(buf)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// serveRequest answers every HTTP/3 request with h3Response after reading
// its body.
func serveRequest(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Write(h3Response)
}

// peer is the running peer process, seen from the benchmarks.
type peer struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	outf *os.File // for read deadlines
	out  *bufio.Reader
	mu   sync.Mutex // one command at a time

	roots              *x509.CertPool
	quicAddr, manyAddr netip.AddrPort
	bigAddr            netip.AddrPort // MaxDatagramSize maxDatagram
	h3URL              string
}

var (
	peerOnce sync.Once
	thePeer  *peer
	peerErr  error
)

// getPeer starts the peer on first use; it lives until TestMain ends.
func getPeer(tb testing.TB) *peer {
	tb.Helper()
	peerOnce.Do(func() { thePeer, peerErr = startPeer() })
	if peerErr != nil {
		tb.Fatal(peerErr)
	}
	return thePeer
}

func startPeer() (*peer, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), peerEnv+"=1")
	cmd.Stderr = os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	cmd.Stdout = w
	in, err := cmd.StdinPipe()
	if err != nil {
		r.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		return nil, err
	}
	p := &peer{cmd: cmd, in: in, outf: r, out: bufio.NewReader(r)}
	line, err := p.readLine()
	if err == nil {
		err = p.parseReady(line)
	}
	if err != nil {
		p.close()
		return nil, fmt.Errorf("starting the peer: %w", err)
	}
	return p, nil
}

func (p *peer) parseReady(line string) error {
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "READY" {
		return fmt.Errorf("first line %q", line)
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "cert":
			var der []byte
			var cert *x509.Certificate
			if der, err = base64.StdEncoding.DecodeString(v); err == nil {
				if cert, err = x509.ParseCertificate(der); err == nil {
					p.roots = x509.NewCertPool()
					p.roots.AddCert(cert)
				}
			}
		case "quic":
			p.quicAddr, err = netip.ParseAddrPort(v)
		case "many":
			p.manyAddr, err = netip.ParseAddrPort(v)
		case "big":
			p.bigAddr, err = netip.ParseAddrPort(v)
		case "h3":
			p.h3URL = "https://" + v + "/"
		}
		if err != nil {
			return fmt.Errorf("READY %s: %w", k, err)
		}
	}
	if p.roots == nil || !p.quicAddr.IsValid() || !p.manyAddr.IsValid() || !p.bigAddr.IsValid() || p.h3URL == "" {
		return fmt.Errorf("incomplete READY line %q", line)
	}
	return nil
}

func (p *peer) readLine() (string, error) {
	// Generous: settle waits up to 30 s, mem collects a large heap.
	p.outf.SetReadDeadline(time.Now().Add(2 * time.Minute))
	line, err := p.out.ReadString('\n')
	return strings.TrimSpace(line), err
}

// command sends cmd and returns the n numbers of its answer.
func (p *peer) command(tb testing.TB, cmd string, n int) []int64 {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.in, cmd+"\n"); err != nil {
		tb.Fatalf("peer %s: %v", cmd, err)
	}
	line, err := p.readLine()
	if err != nil {
		tb.Fatalf("peer %s: %v", cmd, err)
	}
	f := strings.Fields(line)
	if len(f) != n+1 || f[0] != cmd {
		tb.Fatalf("peer answered %q to %s", line, cmd)
	}
	v := make([]int64, n)
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			tb.Fatalf("peer answered %q to %s", line, cmd)
		}
	}
	return v
}

// stat is the peer's usage so far: CPU time (and its system part), heap
// allocations (count and bytes) and context switches.
func (p *peer) stat(tb testing.TB) usage {
	v := p.command(tb, "stat", 5)
	return usage{cpu: time.Duration(v[0]), mallocs: uint64(v[1]), sys: time.Duration(v[2]), switches: uint64(v[3]), allocBytes: uint64(v[4])}
}

// mem is the peer's live heap and goroutines.
func (p *peer) mem(tb testing.TB) (heap int64, goroutines int) {
	v := p.command(tb, "mem", 2)
	return v[0], int(v[1])
}

// settle waits until the connections of earlier benchmarks are gone from
// the peer, so that they do not count in what comes next.
func (p *peer) settle(tb testing.TB) {
	if v := p.command(tb, "settle", 2); v[0] != 0 || v[1] > 0 {
		tb.Fatalf("30 s after the last close, the peer has %d connections open and %d goroutines more than its listeners need", v[0], v[1])
	}
}

// close ends the peer by closing its input.
func (p *peer) close() {
	p.in.Close()
	p.cmd.Wait()
	p.outf.Close()
}

// clientConfig is the configuration of the benchmarks' QUIC clients.
func (p *peer) clientConfig() *quic.Config {
	return &quic.Config{
		TLS:            &tls13.Config{RootCAs: p.roots, ServerName: "127.0.0.1", NextProtos: []string{alpn}},
		MaxIdleTimeout: idleTimeout,
	}
}
