//go:build !linux

package tls13

import "time"

func threadCPUTime() (time.Duration, bool) { return 0, false }
