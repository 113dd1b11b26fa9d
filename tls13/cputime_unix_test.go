//go:build unix

package tls13

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of this process, which the
// benchmark reports beside wall time: on a shared machine it is the steadier
// measure.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
