package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/skiffnet/skiff/interop/perf"
)

// The peer is the server side of every measurement, in its own process so
// that each side's CPU time can be read separately. It listens with every
// transport, then answers commands, one per line, on its standard input:
//
//	cpu  ->  cpu <user ns> <system ns>             (getrusage of the peer)
//	mem  ->  mem <heap bytes> <stack bytes> <goroutines>   (after two GCs)
//
// and exits when its input ends. Its first output line is
//
//	READY cert=<base64 DER> <transport>=<host:port> ...

// RunPeer is the peer's main: it serves perf on host (an IP address) with
// every transport in transports until in ends.
func RunPeer(ctx context.Context, host string, transports []perf.Transport, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("peer: %q is not an IP address", host)
	}
	cred, err := perf.NewCredentials(ip)
	if err != nil {
		return err
	}
	ready := "READY cert=" + base64.StdEncoding.EncodeToString(cred.Certificate.Certificate[0])
	srv := &perf.Server{}
	for _, tr := range transports {
		ln, err := tr.Listen(net.JoinHostPort(host, "0"), cred)
		if err != nil {
			return fmt.Errorf("peer: %s: %w", tr.Name, err)
		}
		defer ln.Close()
		go srv.Serve(ctx, ln)
		ready += " " + tr.Name + "=" + ln.Addr().String()
	}
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, ready)
	w.Flush()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "cpu":
			c := ProcessCPU()
			fmt.Fprintf(w, "cpu %d %d\n", c.User.Nanoseconds(), c.System.Nanoseconds())
		case "mem":
			m := ReadMem()
			fmt.Fprintf(w, "mem %d %d %d\n", m.Heap, m.Stack, m.Goroutines)
		default:
			fmt.Fprintf(w, "error unknown command %q\n", sc.Text())
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Peer is a running peer process, seen from the client.
type Peer struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	done  chan error // the process's exit
	Cred  *perf.Credentials
	Addrs map[string]string // transport name -> address
}

// StartPeer starts cmd (which must run RunPeer on its stdin and stdout) and
// waits for its READY line or ctx.
func StartPeer(ctx context.Context, cmd *exec.Cmd) (*Peer, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Peer{cmd: cmd, in: in, out: bufio.NewScanner(outPipe), done: make(chan error, 1), Addrs: map[string]string{}}
	line, err := p.readLine(ctx)
	if err == nil {
		err = p.parseReady(line)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("starting peer: %w", err)
	}
	return p, nil
}

func (p *Peer) parseReady(line string) error {
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != "READY" {
		return fmt.Errorf("unexpected first line %q", line)
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		if k == "cert" {
			der, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return err
			}
			if p.Cred, err = perf.ClientCredentials(der); err != nil {
				return err
			}
			continue
		}
		p.Addrs[k] = v
	}
	if p.Cred == nil {
		return errors.New("READY line without a certificate")
	}
	return nil
}

// readLine reads the peer's next line, giving up when ctx ends (the peer
// is then killed by Close).
func (p *Peer) readLine(ctx context.Context) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		if p.out.Scan() {
			ch <- result{line: p.out.Text()}
			return
		}
		err := p.out.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		ch <- result{err: err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		p.cmd.Process.Kill()
		return "", ctx.Err()
	}
}

func (p *Peer) command(ctx context.Context, cmd string, n int) ([]int64, error) {
	if _, err := io.WriteString(p.in, cmd+"\n"); err != nil {
		return nil, err
	}
	line, err := p.readLine(ctx)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != n+1 || f[0] != cmd {
		return nil, fmt.Errorf("peer answered %q to %q", line, cmd)
	}
	v := make([]int64, n)
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// CPU returns the peer's CPU time so far.
func (p *Peer) CPU(ctx context.Context) (CPU, error) {
	v, err := p.command(ctx, "cpu", 2)
	if err != nil {
		return CPU{}, err
	}
	return CPU{User: time.Duration(v[0]), System: time.Duration(v[1])}, nil
}

// Mem returns the peer's memory after garbage collection.
func (p *Peer) Mem(ctx context.Context) (Mem, error) {
	v, err := p.command(ctx, "mem", 3)
	if err != nil {
		return Mem{}, err
	}
	return Mem{Heap: v[0], Stack: v[1], Goroutines: int(v[2])}, nil
}

// Close ends the peer by closing its input and waits for it to exit.
func (p *Peer) Close() error {
	p.in.Close()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		return nil // killed after a timeout: already reported
	}
	return err
}
