package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressMinBytes is the body size from which the progress bar shows
// even when the transfer ends before its first redraw.
const progressMinBytes = 1 << 20

// progressInterval is how often the bar is redrawn.
const progressInterval = 250 * time.Millisecond

// progressBar draws one line on a terminal, redrawn in place: the share
// done, bytes, rate and time left (or bytes, rate and time so far when the
// size is unknown).
type progressBar struct {
	w     io.Writer
	total int64 // < 0 when unknown
	count func() int64
	start time.Time
	stop  chan struct{}
	done  chan struct{}
	drawn bool // owned by the drawing goroutine until done is closed
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f.Fd())
}

// startProgress starts a progress bar on w for a transfer of total bytes
// (negative when unknown) whose count so far count returns. It returns nil,
// and draws nothing, when w is not a terminal.
func startProgress(w io.Writer, total int64, count func() int64) *progressBar {
	if !isTerminal(w) {
		return nil
	}
	return runProgress(w, total, count)
}

// runProgress starts a progress bar on w, whatever w is.
func runProgress(w io.Writer, total int64, count func() int64) *progressBar {
	p := &progressBar{w: w, total: total, count: count, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *progressBar) run() {
	defer close(p.done)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.draw()
		}
	}
}

// finish draws the final state and ends the line, if the bar showed or the
// body was large; a nil bar does nothing.
func (p *progressBar) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	if p.drawn || p.total >= progressMinBytes || p.count() >= progressMinBytes {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

func (p *progressBar) draw() {
	p.drawn = true
	io.WriteString(p.w, "\r"+p.line(p.count(), time.Since(p.start))+"\033[K")
}

// line renders the bar for n bytes after elapsed.
func (p *progressBar) line(n int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(n) / s
	}
	if p.total <= 0 {
		return fmt.Sprintf("%10s  %10s/s  %s elapsed", byteSize(float64(n)), byteSize(rate), clock(elapsed))
	}
	const width = 30
	frac := min(float64(n)/float64(p.total), 1)
	filled := int(frac * width)
	eta := "--:--"
	if rate > 0 {
		eta = clock(time.Duration(float64(p.total-n) / rate * float64(time.Second)))
	}
	return fmt.Sprintf("%5.1f%% [%s%s] %10s / %-10s %10s/s  ETA %s", frac*100,
		strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		byteSize(float64(n)), byteSize(float64(p.total)), byteSize(rate), eta)
}

// byteSize is n in bytes, KiB, MiB or GiB.
func byteSize(n float64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

// clock is d as m:ss, or h:mm:ss from an hour.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
