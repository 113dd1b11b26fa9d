package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/skiffnet/skiff/interop/perf"
)

// Value is one cell of a report.
type Value struct {
	V        float64
	OK       bool // false: not measured / not applicable
	Estimate bool // V rests on an estimate (see the report's notes)
}

// Row is one figure for every transport, in column order.
type Row struct {
	Metric       string
	HigherBetter bool
	Values       []Value
}

// Report is a side-by-side comparison.
type Report struct {
	Machine    Machine
	Config     Config
	Transports []string
	Rows       []*Row
	Took       time.Duration
}

// Run measures every figure for every transport.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	start := time.Now()
	rep := &Report{Machine: ThisMachine(), Config: r.Config}
	for _, tr := range r.Transports {
		rep.Transports = append(rep.Transports, tr.Name)
	}
	row := func(metric string, higherBetter bool) *Row {
		rw := &Row{Metric: metric, HigherBetter: higherBetter, Values: make([]Value, len(r.Transports))}
		rep.Rows = append(rep.Rows, rw)
		return rw
	}
	for _, upload := range []bool{false, true} {
		dir := "download"
		if upload {
			dir = "upload"
		}
		rows := []*Row{
			row("bulk "+dir+", Gbit/s", true),
			row("bulk "+dir+", client CPU s/GB", false),
			row("bulk "+dir+", server CPU s/GB", false),
			row("bulk "+dir+", client allocs/packet", false),
		}
		err := r.measure(fmt.Sprintf("bulk %s of %d bytes", dir, r.Config.Bytes), rows, func(tr perf.Transport) ([]Value, error) {
			b, err := r.bulk(ctx, tr, upload)
			return []Value{{V: b.gbps, OK: true}, {V: b.clientCPUPerGB, OK: true}, {V: b.serverCPUPerGB, OK: true}, b.allocsPerPacket}, err
		})
		if err != nil {
			return nil, err
		}
	}
	if !r.Config.BulkOnly {
		if err := r.runOthers(ctx, row); err != nil {
			return nil, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// runOthers measures the figures after the bulk transfers.
func (r *Runner) runOthers(ctx context.Context, row func(string, bool) *Row) error {
	for _, parallel := range []int{1, r.Config.Parallel} {
		name := "handshakes/s, sequential"
		if parallel > 1 {
			name = fmt.Sprintf("handshakes/s, %d parallel", parallel)
		}
		err := r.measure(fmt.Sprintf("%d handshakes, %d at a time", r.Config.Handshakes, parallel), []*Row{row(name, true)},
			func(tr perf.Transport) ([]Value, error) {
				v, err := r.handshakes(ctx, tr, parallel, false)
				return []Value{{V: v, OK: true}}, err
			})
		if err != nil {
			return err
		}
	}
	err := r.measure(fmt.Sprintf("%d resumed handshakes", r.Config.Handshakes), []*Row{row("handshakes/s, sequential, resumed", true)},
		func(tr perf.Transport) ([]Value, error) {
			if tr.NewResumingDialer == nil {
				return []Value{{}}, nil
			}
			v, err := r.handshakes(ctx, tr, 1, true)
			return []Value{{V: v, OK: true}}, err
		})
	if err != nil {
		return err
	}
	rps := row(fmt.Sprintf("requests/s (%d B up, %d B down, %d in flight)",
		r.Config.RequestUp, r.Config.RequestDown, r.Config.InFlight), true)
	err = r.measure(fmt.Sprintf("%d requests", r.Config.Requests), []*Row{rps}, func(tr perf.Transport) ([]Value, error) {
		v, err := r.requests(ctx, tr)
		return []Value{{V: v, OK: true}}, err
	})
	if err != nil {
		return err
	}
	idle := []*Row{
		row(fmt.Sprintf("client heap bytes/idle conn (%d conns)", r.Config.IdleConns), false),
		row("server heap bytes/idle conn", false),
		row("client stack bytes/idle conn", false),
		row("server stack bytes/idle conn", false),
	}
	return r.measure(fmt.Sprintf("%d idle connections", r.Config.IdleConns), idle, func(tr perf.Transport) ([]Value, error) {
		m, err := r.idle(ctx, tr)
		return []Value{{V: float64(m.client.Heap), OK: true}, {V: float64(m.server.Heap), OK: true},
			{V: float64(m.client.Stack), OK: true}, {V: float64(m.server.Stack), OK: true}}, err
	})
}

// measure runs f Config.Runs times for every transport, the transports
// taking turns within each run, and puts each transport's median into rows
// (f returns one Value per row).
func (r *Runner) measure(label string, rows []*Row, f func(tr perf.Transport) ([]Value, error)) error {
	runs := max(1, r.Config.Runs)
	samples := make([][][]Value, len(r.Transports)) // transport, run, row
	for run := range runs {
		for i, tr := range r.Transports {
			r.progress("%s: %s (run %d of %d)", tr.Name, label, run+1, runs)
			v, err := f(tr)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", tr.Name, label, err)
			}
			samples[i] = append(samples[i], v)
		}
	}
	for i := range r.Transports {
		for j, row := range rows {
			xs := make([]float64, runs)
			for k, s := range samples[i] {
				xs[k] = s[j].V
			}
			v := samples[i][0][j]
			v.V = median(xs)
			row.Values[i] = v
		}
	}
	return nil
}

// median returns the middle of xs (the mean of the two middle values for an
// even count).
func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// Markdown writes the report as a Markdown table, each value after the
// first column followed by its ratio to the first column.
func (rep *Report) Markdown(w io.Writer) {
	m := rep.Machine
	c := rep.Config
	fmt.Fprintf(w, "### Side-by-side: %s\n\n", strings.Join(rep.Transports, " vs "))
	fmt.Fprintf(w, "Machine: %s, %d cores, %s, %s, kernel %s. Path: %s. Took %s.\n\n",
		m.CPU, m.Cores, m.Go, m.OS, m.Kernel, c.Path, rep.Took.Round(time.Second))
	fmt.Fprintf(w, "| figure |")
	for i, name := range rep.Transports {
		if i == 0 {
			fmt.Fprintf(w, " %s |", name)
		} else {
			fmt.Fprintf(w, " %s (÷ %s) |", name, rep.Transports[0])
		}
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(rep.Transports)))
	for _, row := range rep.Rows {
		arrow := "↓"
		if row.HigherBetter {
			arrow = "↑"
		}
		fmt.Fprintf(w, "| %s %s |", row.Metric, arrow)
		base := row.Values[0]
		for i, v := range row.Values {
			cell := "n/a"
			if v.OK {
				cell = formatValue(v.V)
				if v.Estimate {
					cell = "~" + cell
				}
				if i > 0 && base.OK && base.V != 0 {
					cell += fmt.Sprintf(" (%s×)", formatValue(v.V/base.V))
				}
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n%s", reportNotes(c))
}

// formatValue prints three significant digits without an exponent.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a == 0:
		return "0"
	default:
		// Three significant digits after the leading zeros.
		return fmt.Sprintf("%.*f", 2-int(math.Floor(math.Log10(a))), v)
	}
}

func reportNotes(c Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Notes: ↑ higher is better, ↓ lower is better; (N×) is the ratio to the first column. "+
		"Each value is the median of %d run(s), the transports taking turns within a run.\n", max(1, c.Runs))
	fmt.Fprintf(&b, "- Bulk: %d bytes on one stream of one fresh connection, timed from opening the stream to the server's FIN "+
		"(draft-banks-quic-performance-00 §3.1); the server runs in a separate process and each side's CPU is getrusage "+
		"user+system over the transfer. GB = 10^9 bytes.\n", c.Bytes)
	fmt.Fprintf(&b, "- Allocs/packet: client process heap allocations during the transfer divided by the packets the client "+
		"connection sent and received (QUIC connection statistics). ~ marks an estimate: transports without packet counts "+
		"(TCP) are divided by bytes/%d instead.\n", estimatedPacketPayload)
	if c.BulkOnly {
		return b.String()
	}
	fmt.Fprintf(&b, "- Handshakes: %d connections per figure, each closed as soon as the client's handshake completes; "+
		"TLS 1.3 with an ECDSA P-256 certificate on every transport. Resumed: sequential, each connection resuming the "+
		"previous one's session (psk_dhe_ke: the key exchange stays, the certificate and its signature go) and closed once "+
		"its own session ticket arrived, half a round trip after the handshake; QUIC only (n/a for TCP+TLS, whose client "+
		"reads its ticket only with application data).\n", c.Handshakes)
	fmt.Fprintf(&b, "- Requests: %d requests, %d in flight. QUIC: streams of one connection. TCP+TLS carries one stream at a "+
		"time per connection, so it gets %d connections with one request each in flight (keep-alive, like HTTP/1.1).\n",
		c.Requests, c.InFlight, c.InFlight)
	fmt.Fprintf(&b, "- Idle connections: %d connections, each after one empty request and two seconds of quiet; growth of live heap "+
		"(HeapAlloc) and goroutine stacks (StackInuse) after GC, divided by the connection count, on each side "+
		"separately (server side includes the perf server's goroutine per connection). A transport with no goroutine "+
		"per connection can show a small negative stack growth: that is noise.\n", c.IdleConns)
	fmt.Fprintf(&b, "- One run per figure on a machine that may be shared: compare columns of the same report, not reports.\n")
	return b.String()
}

// Transports picks the named transports in perf.Transports order; no names
// means all.
func Transports(names []string) ([]perf.Transport, error) {
	if len(names) == 0 {
		return perf.Transports(), nil
	}
	var out []perf.Transport
	for _, n := range names {
		t, ok := perf.ByName(n)
		if !ok {
			return nil, fmt.Errorf("unknown transport %q", n)
		}
		out = append(out, t)
	}
	return out, nil
}
