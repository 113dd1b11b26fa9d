package tls13

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUTime is the CPU time of the calling OS thread. A benchmark that
// locks its goroutine to its thread compares two pieces of work by it
// without counting the time other processes take the core away, which on a
// shared machine dominates wall-time figures.
func threadCPUTime() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
