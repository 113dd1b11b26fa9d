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
	user, sys := processTimes()
	return user + sys
}

// processTimes is processCPU's user and system parts: the system part is
// the kernel's work for the process (system calls, the loopback's delivery
// of what it sends, page faults, context switches).
func processTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
