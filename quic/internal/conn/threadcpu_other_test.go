//go:build !linux

package conn

import "time"

var wallStart = time.Now()

// threadCPU is the wall clock where no per-thread CPU clock is read.
func threadCPU() time.Duration { return time.Since(wallStart) }
