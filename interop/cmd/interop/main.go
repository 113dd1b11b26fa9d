package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/skiffnet/skiff/interop/runner"
)

func main() {
	casesFlag := flag.String("cases", "", "comma-separated case names (default: all)")
	pairsFlag := flag.String("pairs", "", "comma-separated server:client pairs, e.g. skiff:quic-go (default: all four)")
	mode := flag.String("mode", "auto", "network emulation: auto, namespaces or loopback")
	dirFlag := flag.String("dir", "", "where runs keep their files and logs (default: a new temporary directory)")
	goodputRuns := flag.Int("goodput-runs", 1, "runs of each measurement (the interop runner does 5)")
	flag.Parse()
	if err := run(*casesFlag, *pairsFlag, *mode, *dirFlag, *goodputRuns); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
}

func run(casesFlag, pairsFlag, mode, dir string, goodputRuns int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "skiff-interop-"); err != nil {
			return err
		}
	}
	impls, err := build(ctx, filepath.Join(dir, "bin"))
	if err != nil {
		return err
	}
	for _, impl := range impls {
		if err := runner.CheckUnknownCase(ctx, impl); err != nil {
			return err
		}
	}
	fmt.Printf("both endpoints exit 127 for an unknown test case, as client and as server\n")

	topo, err := topology(mode)
	if err != nil {
		return err
	}
	defer topo.Close()
	fmt.Printf("network emulation: %s\n", describe(topo))

	cases := runner.Cases()
	if casesFlag != "" {
		want := strings.Split(casesFlag, ",")
		cases = slices.DeleteFunc(cases, func(c runner.Case) bool { return !slices.Contains(want, c.Name) })
	}
	pairs := [][2]runner.Impl{{impls[0], impls[0]}, {impls[0], impls[1]}, {impls[1], impls[0]}, {impls[1], impls[1]}}
	if pairsFlag != "" {
		want := strings.Split(pairsFlag, ",")
		pairs = slices.DeleteFunc(pairs, func(p [2]runner.Impl) bool { return !slices.Contains(want, p[0].Name+":"+p[1].Name) })
	}

	opts := &runner.Options{Topology: topo, Dir: dir, Seed: uint64(time.Now().UnixNano())}
	var results []*runner.Result
	for i := range cases {
		c := &cases[i]
		for _, p := range pairs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			runs := 1
			if c.Measure {
				runs = goodputRuns
			}
			r := measure(ctx, opts, c, p, runs)
			fmt.Printf("%-20s %-16s %s %s %s (%.1fs)\n", c.Name, p[0].Name+"→"+p[1].Name, r.Status, r.Measurement, r.Reason, r.Elapsed.Seconds())
			results = append(results, r)
		}
	}
	fmt.Printf("\nQUIC interop matrix (%s; logs in %s; %s)\n\n", describe(topo), dir, time.Since(start).Round(time.Second))
	runner.PrintMatrix(os.Stdout, cases, pairs, results)
	return nil
}

// measure runs a case runs times and reports the mean goodput of the
// passing runs; a single failure fails the case.
func measure(ctx context.Context, opts *runner.Options, c *runner.Case, p [2]runner.Impl, runs int) *runner.Result {
	var total float64
	var last *runner.Result
	var elapsed time.Duration
	for i := range max(runs, 1) {
		opts.Seed++
		last = runner.RunCase(ctx, opts, c, p[0], p[1])
		elapsed += last.Elapsed
		if last.Status != runner.Pass || !c.Measure {
			break
		}
		total += last.Goodput
		if runs > 1 {
			last.Measurement = fmt.Sprintf("%.2f Mbit/s (mean of %d)", total/float64(i+1)/1e6, i+1)
		}
	}
	last.Elapsed = elapsed
	return last
}

// build compiles both endpoints from this module.
func build(ctx context.Context, bin string) ([]runner.Impl, error) {
	impls := []runner.Impl{
		{Name: "skiff", Binary: filepath.Join(bin, "skiff-endpoint")},
		{Name: "quic-go", Binary: filepath.Join(bin, "quicgo-endpoint")},
	}
	for _, impl := range impls {
		pkg := "./cmd/" + filepath.Base(impl.Binary)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", impl.Binary, pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s: %w", pkg, err)
		}
	}
	return impls, nil
}

func topology(mode string) (*runner.Topology, error) {
	if mode == "loopback" {
		return runner.Loopback(4433), nil
	}
	t, err := runner.SetupNamespaces(fmt.Sprintf("skq%d", os.Getpid()%100000))
	if err == nil {
		return t, nil
	}
	if mode == "namespaces" {
		return nil, err
	}
	fmt.Printf("network namespaces unavailable (%v): falling back to loopback\n", err)
	return runner.Loopback(4433), nil
}

func describe(t *runner.Topology) string {
	if t.Mode == "namespaces" {
		return "network namespaces " + t.Client + " / " + t.Sim + " / " + t.Server + " (veth, 198.18.0.0/15 and 2001:2::/48) with the userspace relay in " + t.Sim
	}
	return "loopback only (the userspace relay on 127.0.0.1 / ::1; no namespaces)"
}
