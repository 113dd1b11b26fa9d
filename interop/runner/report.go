package runner

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/skiffnet/skiff/interop/qtrace"
	"github.com/skiffnet/skiff/interop/relay"
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "✓"
	case Fail:
		return "✗"
	}
	return "unsupported"
}

// writeTrace writes one line per packet of a trace, for debugging a run.
func writeTrace(file string, t *qtrace.Trace) {
	writeFile(file, func(w io.Writer) {
		for _, p := range t.Packets {
			d := t.Datagrams[p.Datagram]
			fmt.Fprintf(w, "%10.3fms #%-5d %-9s %-11s v%x pn=%d size=%d phase=%d ecn=%d path=%v",
				float64(d.Arrived.Microseconds())/1000, p.Datagram, d.Dir, p.Type, p.Version, p.PN, p.Size, p.KeyPhase, d.ECN, d.Path)
			if p.Type != qtrace.OneRTT {
				fmt.Fprintf(w, " dcid=%x scid=%x", p.DCID, p.SCID)
			}
			if d.Fate.Drop != "" {
				fmt.Fprintf(w, " dropped=%s", d.Fate.Drop)
			}
			if d.Fate.CorruptAt >= 0 {
				fmt.Fprintf(w, " corrupted=%d", d.Fate.CorruptAt)
			}
			if p.Frames != nil {
				fmt.Fprintf(w, " frames=%x", p.Frames.Types)
			}
			if p.Err != nil {
				fmt.Fprintf(w, " err=%v", p.Err)
			}
			fmt.Fprintln(w)
		}
	})
}

// writeFile writes a debugging file through a buffer; errors only cost
// the file.
func writeFile(name string, write func(io.Writer)) {
	f, err := os.Create(name)
	if err != nil {
		return
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()
	write(w)
}

// PrintMatrix writes the results as a table: a row per case, a column per
// server/client pair, then the reasons for every ✗ and unsupported.
func PrintMatrix(w io.Writer, cases []Case, pairs [][2]Impl, results []*Result) {
	at := map[string]*Result{}
	for _, r := range results {
		at[r.Case+"|"+r.Server+"|"+r.Client] = r
	}
	cols := []string{"case \\ server→client"}
	for _, p := range pairs {
		cols = append(cols, p[0].Name+"→"+p[1].Name)
	}
	rows := [][]string{cols}
	for _, c := range cases {
		row := []string{c.Name}
		for _, p := range pairs {
			r := at[c.Name+"|"+p[0].Name+"|"+p[1].Name]
			cell := "-"
			if r != nil {
				cell = r.Status.String()
				if r.Measurement != "" {
					cell += " " + r.Measurement
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(cols))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for i, row := range rows {
		var b strings.Builder
		for j, cell := range row {
			b.WriteString(cell + strings.Repeat(" ", widths[j]-len([]rune(cell))+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if i == 0 {
			var sep strings.Builder
			for _, n := range widths {
				sep.WriteString(strings.Repeat("─", n) + "  ")
			}
			fmt.Fprintln(w, strings.TrimRight(sep.String(), " "))
		}
	}
	fmt.Fprintln(w)
	seen := map[string]bool{}
	for _, r := range results {
		switch {
		case r.Status == Fail:
			fmt.Fprintf(w, "✗ %s %s→%s: %s\n", r.Case, r.Server, r.Client, r.Reason)
		case r.Status == Unsupported && !seen[r.Case+r.Reason]:
			// One line per case and reason: the same side lacks it in
			// several pairs.
			seen[r.Case+r.Reason] = true
			fmt.Fprintf(w, "unsupported %s: %s\n", r.Case, r.Reason)
		}
	}
}

// writePcap saves the relay's capture for Wireshark (with the key logs
// of the same directory).
func writePcap(file string, rl *relay.Relay, server netip.AddrPort) {
	writeFile(file, func(w io.Writer) { relay.WritePcap(w, rl.Capture(), server, rl.Start()) })
}
