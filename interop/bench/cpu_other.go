//go:build !unix

package bench

// ProcessCPU returns zero: CPU time is read with getrusage, on unix only.
func ProcessCPU() CPU { return CPU{} }
