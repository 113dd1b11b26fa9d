package bench

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"
)

// CPU is a process's CPU time.
type CPU struct{ User, System time.Duration }

// Total is user plus system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// Sub returns c minus an earlier reading.
func (c CPU) Sub(earlier CPU) CPU {
	return CPU{User: c.User - earlier.User, System: c.System - earlier.System}
}

// Mem is a process's memory in use after garbage collection.
type Mem struct {
	Heap       int64 // runtime.MemStats.HeapAlloc: live heap objects
	Stack      int64 // runtime.MemStats.StackInuse: goroutine stacks
	Goroutines int
}

// ReadMem collects garbage twice (the second pass frees what finalizers
// released) and reads this process's memory.
func ReadMem() Mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Mem{Heap: int64(ms.HeapAlloc), Stack: int64(ms.StackInuse), Goroutines: runtime.NumGoroutine()}
}

// mallocs returns the number of heap allocations so far in this process.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// Machine describes where a report was measured.
type Machine struct {
	CPU    string // model name from /proc/cpuinfo
	Cores  int    // runtime.NumCPU
	Go     string
	Kernel string
	OS     string
}

// ThisMachine reads the machine description; what it cannot find is
// "unknown".
func ThisMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Go: runtime.Version(), Kernel: "unknown",
		OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}
