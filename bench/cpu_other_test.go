//go:build !unix

package bench

import "time"

// haveCPU says whether processCPU measures anything here.
const haveCPU = false

// processCPU is zero: there is no getrusage on this system.
func processCPU() time.Duration { return 0 }

// processTimes is zero, as processCPU.
func processTimes() (user, sys time.Duration) { return 0, 0 }

// contextSwitches is zero: there is no getrusage on this system.
func contextSwitches() uint64 { return 0 }
