package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what the child writes to the
// secondary side, the test reads from the primary.
func openPTY(t *testing.T) (primary, secondary *os.File) {
	t.Helper()
	p, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(p.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		p.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, s
}

// runWithTerminalStderr runs skiff with stderr on a terminal and returns
// what the terminal showed, and the exit code.
func runWithTerminalStderr(t *testing.T, args ...string) (string, int) {
	t.Helper()
	primary, secondary := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, skiffBinary(t), args...)
	cmd.Env = cleanEnv()
	cmd.Stderr = secondary
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	secondary.Close() // the child has it; reads end (EIO) when it exits
	var shown bytes.Buffer
	io.Copy(&shown, primary)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return shown.String(), code
}

func TestProgressBarOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	big := o.base + "/bytes/" + strconv.Itoa(4<<20)
	out := filepath.Join(t.TempDir(), "out")
	for _, proto := range []string{"--http2", "--http3-only"} {
		shown, code := runWithTerminalStderr(t, "get", "--cacert", o.cert.certFile, proto, "-o", out, big)
		if code != 0 {
			t.Fatalf("%s: exit %d: %q", proto, code, shown)
		}
		// The last state drawn: all of it. (The terminal writes the
		// final newline as \r\n.)
		shown = strings.TrimSuffix(shown, "\r\n")
		last := shown[strings.LastIndex(shown, "\r")+1:]
		for _, want := range []string{"100.0% [" + strings.Repeat("#", 30) + "]", "4.00 MiB / 4.00 MiB", "MiB/s", "ETA 0:00"} {
			if !strings.Contains(last, want) {
				t.Errorf("%s: the bar's last line %q lacks %q", proto, last, want)
			}
		}
	}

	// -s draws nothing on the terminal. (Nor does a small body fetched
	// within the first redraw's 250 ms, TestProgressDrawsWhen: here the
	// machine's load decides whether it is, and a bar it drew would be
	// right.)
	if shown, code := runWithTerminalStderr(t, "get", "-s", "--cacert", o.cert.certFile, "-o", out, big); code != 0 || shown != "" {
		t.Errorf("-s: exit %d, terminal shows %q", code, shown)
	}
	// Not a terminal: nothing either.
	if r := runSkiff(t, "get", "--cacert", o.cert.certFile, "-o", out, big); r.code != 0 || r.stderr != "" {
		t.Errorf("stderr not a terminal: %+v", r)
	}
}
