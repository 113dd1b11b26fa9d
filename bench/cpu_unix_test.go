//go:build unix

package bench

import (
	"syscall"
	"time"
)

// haveCPU says whether processCPU measures anything here.
const haveCPU = true

// processCPU is this process's CPU time so far, user and system, over all
// its threads (getrusage RUSAGE_SELF), or zero if the kernel will not say.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
