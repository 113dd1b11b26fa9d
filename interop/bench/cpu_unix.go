//go:build unix

package bench

import (
	"syscall"
	"time"
)

// ProcessCPU returns this process's CPU time (getrusage RUSAGE_SELF: every
// thread, user and system), or zero if the kernel will not say.
func ProcessCPU() CPU {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return CPU{}
	}
	return CPU{User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}
}
