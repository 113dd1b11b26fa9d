package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/skiffnet/skiff/interop/bench"
)

func main() {
	var (
		peer       = flag.Bool("peer", false, "run as the server side: serve on -host, commands on stdin")
		host       = flag.String("host", "127.0.0.1", "IP address the server side listens on")
		peerNetns  = flag.String("peer-netns", "", "start the server side in this network namespace (ip netns exec; root)")
		bulkOnly   = flag.Bool("bulk", false, "measure the bulk transfers only")
		path       = flag.String("path", "", "network path named in the report (default: loopback, or veth with -peer-netns)")
		transports = flag.String("transports", "", "comma-separated transports (default: all, in column order)")
		timeout    = flag.Duration("timeout", 30*time.Minute, "give up after this long")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *peer, *host, *peerNetns, *bulkOnly, *path, *transports, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, peer bool, host, peerNetns string, bulkOnly bool, path, names string, timeout time.Duration) error {
	var list []string
	if names != "" {
		list = strings.Split(names, ",")
	}
	trs, err := bench.Transports(list)
	if err != nil {
		return err
	}
	if peer {
		return bench.RunPeer(ctx, host, trs, os.Stdin, os.Stdout)
	}

	cfg, err := bench.DefaultConfig().FromEnv()
	if err != nil {
		return err
	}
	cfg.BulkOnly = bulkOnly
	switch {
	case path != "":
		cfg.Path = path
	case peerNetns != "":
		cfg.Path = "veth pair between network namespaces"
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{self, "-peer", "-host", host}
	if names != "" {
		args = append(args, "-transports", names)
	}
	if peerNetns != "" {
		args = append([]string{"ip", "netns", "exec", peerNetns}, args...)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	p, err := bench.StartPeer(ctx, cmd)
	if err != nil {
		return err
	}
	defer p.Close()
	r := &bench.Runner{Peer: p, Transports: trs, Config: cfg, Progress: os.Stderr}
	rep, err := r.Run(ctx)
	if err != nil {
		return err
	}
	rep.Markdown(os.Stdout)
	return nil
}
