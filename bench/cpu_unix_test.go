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

// contextSwitches is how many times this process's threads have left the
// CPU so far, voluntarily (to wait: a futex, the poller, a sleep) or not
// (preempted), summed over all its threads (getrusage RUSAGE_SELF:
// ru_nvcsw + ru_nivcsw), or zero if the kernel will not say. Each is a
// wake-up to pay for later, and what a loaded or virtualized machine makes
// dearer.
func contextSwitches() uint64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return uint64(ru.Nvcsw + ru.Nivcsw)
}
