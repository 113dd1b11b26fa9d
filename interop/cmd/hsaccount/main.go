package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skiffnet/skiff/interop/perf"
	"github.com/skiffnet/skiff/udpio"
)

func main() {
	var (
		peer       = flag.Bool("peer", false, "run as the server side: serve on -host, commands on stdin")
		host       = flag.String("host", "127.0.0.1", "IP address the server side listens on")
		peerNetns  = flag.String("peer-netns", "", "start the server side in this network namespace (ip netns exec; root)")
		peerWrap   = flag.String("peer-wrap", "", "command line to start the server side under, e.g. \"strace -f -c -o FILE\"")
		cpuProfile = flag.String("cpuprofile", "", "write each side's CPU profile, for its whole life, to `prefix`.client.pprof and prefix.server.pprof")
		transports = flag.String("transports", "skiff,quic-go,udp", "comma-separated transports; udp: the datagrams of a handshake alone (udp.go)")
		n          = flag.Int("n", 1000, "handshakes per transport")
		parallel   = flag.Int("parallel", 1, "handshakes at a time")
	)
	flag.Parse()
	var trs []perf.Transport
	for _, name := range strings.Split(*transports, ",") {
		if name == udpName {
			trs = append(trs, perf.Transport{Name: udpName})
			continue
		}
		tr, ok := perf.ByName(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "hsaccount: no transport %q\n", name)
			os.Exit(2)
		}
		trs = append(trs, tr)
	}
	side := "client"
	if *peer {
		side = "server"
	}
	stop, err := startProfile(*cpuProfile, side)
	if err == nil {
		if *peer {
			err = runPeer(*host, trs)
		} else {
			err = run(*host, *peerNetns, *peerWrap, *cpuProfile, trs, *n, *parallel)
		}
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hsaccount:", err)
		os.Exit(1)
	}
}

// startProfile starts a CPU profile to prefix.side.pprof, when prefix is
// set; the function it returns stops it.
func startProfile(prefix, side string) (stop func(), err error) {
	if prefix == "" {
		return func() {}, nil
	}
	f, err := os.Create(prefix + "." + side + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// counters is what one process has used so far.
type counters map[string]float64

// names in the order the table prints them, with their meaning.
var rows = []struct{ key, desc string }{
	{"cpu-us", "CPU µs, user + system"},
	{"user-us", "  user µs"},
	{"sys-us", "  system µs"},
	{"gc-cpu-us", "GC CPU µs (runtime/metrics estimate, in user)"},
	{"vcsw", "voluntary context switches"},
	{"ivcsw", "involuntary context switches"},
	{"minflt", "page faults (minor)"},
	{"goroutines", "goroutines started"},
	{"schedules", "goroutine schedulings (runnable -> running)"},
	{"gc", "GC cycles"},
	{"alloc-bytes", "bytes allocated"},
	{"alloc-objects", "objects allocated"},
	{"udp-out", "UDP sends (netns OutDatagrams; a GSO send counts once)"},
	{"udp-in", "UDP datagrams delivered (netns InDatagrams)"},
	{"ip-out-bytes", "IP bytes sent (netns IpExt OutOctets)"},
	{"ip-in-bytes", "IP bytes received (netns IpExt InOctets)"},
}

func readCounters() counters {
	c := counters{}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c["user-us"] = float64(ru.Utime.Nano()) / 1e3
		c["sys-us"] = float64(ru.Stime.Nano()) / 1e3
		c["cpu-us"] = c["user-us"] + c["sys-us"]
		c["vcsw"] = float64(ru.Nvcsw)
		c["ivcsw"] = float64(ru.Nivcsw)
		c["minflt"] = float64(ru.Minflt)
	}
	samples := []metrics.Sample{
		{Name: "/sched/goroutines-created:goroutines"},
		{Name: "/sched/latencies:seconds"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/gc/heap/allocs:objects"},
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
	}
	metrics.Read(samples)
	for _, s := range samples {
		var v float64
		switch s.Value.Kind() {
		case metrics.KindUint64:
			v = float64(s.Value.Uint64())
		case metrics.KindFloat64:
			v = s.Value.Float64()
		case metrics.KindFloat64Histogram:
			for _, b := range s.Value.Float64Histogram().Counts {
				v += float64(b)
			}
		default:
			continue
		}
		switch s.Name {
		case "/sched/goroutines-created:goroutines":
			c["goroutines"] = v
		case "/sched/latencies:seconds":
			c["schedules"] = v
		case "/gc/cycles/total:gc-cycles":
			c["gc"] = v
		case "/gc/heap/allocs:bytes":
			c["alloc-bytes"] = v
		case "/gc/heap/allocs:objects":
			c["alloc-objects"] = v
		case "/cpu/classes/gc/total:cpu-seconds":
			c["gc-cpu-us"] = v * 1e6
		}
	}
	snmp("/proc/net/snmp", "Udp:", map[string]string{"OutDatagrams": "udp-out", "InDatagrams": "udp-in"}, c)
	snmp("/proc/net/netstat", "IpExt:", map[string]string{"OutOctets": "ip-out-bytes", "InOctets": "ip-in-bytes"}, c)
	return c
}

// snmp reads the fields named in want from the line pair with prefix in a
// /proc/net/{snmp,netstat} file (a header line, then a value line).
func snmp(path, prefix string, want map[string]string, c counters) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var header []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != prefix {
			continue
		}
		if header == nil {
			header = f
			continue
		}
		for i := 1; i < len(f) && i < len(header); i++ {
			if key, ok := want[header[i]]; ok {
				c[key], _ = strconv.ParseFloat(f[i], 64)
			}
		}
		return
	}
}

func (c counters) String() string {
	var b strings.Builder
	for k, v := range c {
		fmt.Fprintf(&b, " %s=%g", k, v)
	}
	return b.String()
}

func parseCounters(fields []string) counters {
	c := counters{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		c[k], _ = strconv.ParseFloat(v, 64)
	}
	return c
}

// runPeer serves perf with every transport and answers "stat" with its
// counters until its input ends. Its first line is
// READY cert=<base64 DER> <transport>=<host:port> ...
func runPeer(host string, trs []perf.Transport) error {
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("%q is not an IP address", host)
	}
	cred, err := perf.NewCredentials(ip)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := "READY cert=" + base64.StdEncoding.EncodeToString(cred.Certificate.Certificate[0])
	srv := &perf.Server{}
	for _, tr := range trs {
		if tr.Name == udpName {
			uc, err := udpio.Listen("udp", netip.AddrPortFrom(netip.MustParseAddr(host), 0), udpio.Options{})
			if err != nil {
				return err
			}
			defer uc.Close()
			go serveUDP(uc)
			ready += " " + udpName + "=" + uc.LocalAddr().String()
			continue
		}
		ln, err := tr.Listen(net.JoinHostPort(host, "0"), cred)
		if err != nil {
			return fmt.Errorf("%s: %w", tr.Name, err)
		}
		defer ln.Close()
		go srv.Serve(ctx, ln)
		ready += " " + tr.Name + "=" + ln.Addr().String()
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, ready)
	w.Flush()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Fprintf(w, "stat%s\n", readCounters())
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// peerProc is the server side's process.
type peerProc struct {
	cmd   *exec.Cmd
	in    *os.File
	out   *bufio.Scanner
	cred  *perf.Credentials
	addrs map[string]string
}

func startPeer(host, netns, wrap, profile string, trs []perf.Transport) (*peerProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, tr := range trs {
		names = append(names, tr.Name)
	}
	args := []string{self, "-peer", "-host", host, "-transports", strings.Join(names, ","), "-cpuprofile", profile}
	if wrap != "" {
		args = append(strings.Fields(wrap), args...)
	}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = inR
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	inR.Close()
	p := &peerProc{cmd: cmd, in: inW, out: bufio.NewScanner(outPipe), addrs: map[string]string{}}
	if !p.out.Scan() {
		p.close()
		return nil, fmt.Errorf("peer ended before READY: %v", p.out.Err())
	}
	for _, f := range strings.Fields(p.out.Text())[1:] {
		k, v, _ := strings.Cut(f, "=")
		if k != "cert" {
			p.addrs[k] = v
			continue
		}
		der, err := base64.StdEncoding.DecodeString(v)
		if err == nil {
			p.cred, err = perf.ClientCredentials(der)
		}
		if err != nil {
			p.close()
			return nil, err
		}
	}
	if p.cred == nil {
		p.close()
		return nil, fmt.Errorf("unexpected first line %q", p.out.Text())
	}
	return p, nil
}

func (p *peerProc) stat() (counters, error) {
	if _, err := fmt.Fprintln(p.in, "stat"); err != nil {
		return nil, err
	}
	if !p.out.Scan() {
		return nil, fmt.Errorf("peer ended: %v", p.out.Err())
	}
	f := strings.Fields(p.out.Text())
	if len(f) == 0 || f[0] != "stat" {
		return nil, fmt.Errorf("peer answered %q", p.out.Text())
	}
	return parseCounters(f[1:]), nil
}

func (p *peerProc) close() {
	p.in.Close()
	p.cmd.Wait()
}

func run(host, netns, wrap, profile string, trs []perf.Transport, n, parallel int) error {
	p, err := startPeer(host, netns, wrap, profile, trs)
	if err != nil {
		return err
	}
	defer p.close()
	fmt.Printf("%d handshakes per transport, %d at a time; per handshake, client / server:\n\n", n, parallel)
	fmt.Printf("| %-55s |", "")
	for _, tr := range trs {
		fmt.Printf(" %-23s |", tr.Name)
	}
	fmt.Printf("\n|%s|", strings.Repeat("-", 57))
	for range trs {
		fmt.Printf("%s|", strings.Repeat("-", 25))
	}
	fmt.Println()
	type result struct {
		cl, sv counters
		rate   float64
	}
	var res []result
	for _, tr := range trs {
		cl, sv, rate, err := measure(p, tr, n, parallel)
		if err != nil {
			return fmt.Errorf("%s: %w", tr.Name, err)
		}
		res = append(res, result{cl, sv, rate})
	}
	for _, r := range rows {
		fmt.Printf("| %-55s |", r.desc)
		for _, x := range res {
			fmt.Printf(" %10.2f / %10.2f |", x.cl[r.key]/float64(n), x.sv[r.key]/float64(n))
		}
		fmt.Println()
	}
	fmt.Printf("| %-55s |", "handshakes/s")
	for _, x := range res {
		fmt.Printf(" %23.0f |", x.rate)
	}
	fmt.Println()
	return nil
}

// measure runs n handshakes of tr, parallel at a time, and returns what
// each side used and the rate.
func measure(p *peerProc, tr perf.Transport, n, parallel int) (cl, sv counters, rate float64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	addr := p.addrs[tr.Name]
	dial := func() error { return udpExchanges(ctx, addr, n, parallel) }
	if tr.Name != udpName {
		d, err := tr.NewDialer(p.cred)
		if err != nil {
			return nil, nil, 0, err
		}
		defer d.Close()
		if c, err := d.Dial(ctx, addr); err != nil { // the dialer's socket
			return nil, nil, 0, err
		} else {
			c.Close()
		}
		dial = func() error { return handshakes(ctx, d, addr, n, parallel) }
	}
	time.Sleep(300 * time.Millisecond)
	cl0 := readCounters()
	sv0, err := p.stat()
	if err != nil {
		return nil, nil, 0, err
	}
	start := time.Now()
	if err := dial(); err != nil {
		return nil, nil, 0, err
	}
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	cl1 := readCounters()
	sv1, err := p.stat()
	if err != nil {
		return nil, nil, 0, err
	}
	cl, sv = counters{}, counters{}
	for k := range cl1 {
		cl[k] = cl1[k] - cl0[k]
	}
	for k := range sv1 {
		sv[k] = sv1[k] - sv0[k]
	}
	return cl, sv, float64(n) / elapsed.Seconds(), nil
}

// handshakes opens n connections with d, parallel at a time, each closed
// as soon as Dial returns.
func handshakes(ctx context.Context, d perf.Dialer, addr string, n, parallel int) error {
	var next atomic.Int64
	return inParallel(parallel, func() error {
		for next.Add(1) <= int64(n) {
			c, err := d.Dial(ctx, addr)
			if err != nil {
				return err
			}
			c.Close()
		}
		return nil
	})
}

// inParallel runs work on parallel goroutines and returns the first error.
func inParallel(parallel int, work func() error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(); err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}
