package bench

import (
	"fmt"
	"os"
	"strconv"
)

// Config sizes one report.
type Config struct {
	Bytes       int64 // bulk transfer, in each direction, on one connection
	Handshakes  int   // handshakes per handshake-rate figure
	Parallel    int   // concurrent clients in the parallel handshake figure
	Requests    int   // requests in the request-rate figure
	InFlight    int   // requests in flight in the request-rate figure
	RequestUp   int64 // bytes each request uploads
	RequestDown int64 // bytes each request downloads
	IdleConns   int   // connections held open for the memory figure
	Runs        int   // runs per figure; the report shows the median
	// Verify checks every payload byte against the pattern (tests); off,
	// the receivers only count bytes.
	Verify bool
	// BulkOnly measures the bulk transfers only (the veth run).
	BulkOnly bool
	// Path describes the network path in the report, e.g. "loopback".
	Path string
}

// DefaultConfig is what `make bench` measures.
func DefaultConfig() Config {
	return Config{
		Bytes:       1 << 30,
		Handshakes:  1000,
		Parallel:    32,
		Requests:    20000,
		InFlight:    100,
		RequestUp:   1 << 10,
		RequestDown: 4 << 10,
		IdleConns:   1000,
		Runs:        3,
		Path:        "loopback",
	}
}

// FromEnv overrides c's sizes from SKIFF_BENCH_BYTES, SKIFF_BENCH_HANDSHAKES,
// SKIFF_BENCH_PARALLEL, SKIFF_BENCH_REQUESTS, SKIFF_BENCH_INFLIGHT,
// SKIFF_BENCH_IDLE_CONNS and SKIFF_BENCH_RUNS, where set.
func (c Config) FromEnv() (Config, error) {
	for _, v := range []struct {
		name string
		set  func(int64)
	}{
		{"SKIFF_BENCH_BYTES", func(n int64) { c.Bytes = n }},
		{"SKIFF_BENCH_HANDSHAKES", func(n int64) { c.Handshakes = int(n) }},
		{"SKIFF_BENCH_PARALLEL", func(n int64) { c.Parallel = int(n) }},
		{"SKIFF_BENCH_REQUESTS", func(n int64) { c.Requests = int(n) }},
		{"SKIFF_BENCH_INFLIGHT", func(n int64) { c.InFlight = int(n) }},
		{"SKIFF_BENCH_IDLE_CONNS", func(n int64) { c.IdleConns = int(n) }},
		{"SKIFF_BENCH_RUNS", func(n int64) { c.Runs = int(n) }},
	} {
		s := os.Getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive integer", v.name, s)
		}
		v.set(n)
	}
	return c, nil
}
