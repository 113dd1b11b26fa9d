package qlog

import (
	"os"
	"testing"
)

// An empty directory, as os.Getenv("QLOGDIR") gives when the variable is
// unset, traces nothing: no file appears in the working directory.
func TestDirTracerEmptyDir(t *testing.T) {
	t.Chdir(t.TempDir())
	if tr := DirTracer(""); tr != nil {
		tr(true, []byte{1, 2, 3, 4})
		entries, _ := os.ReadDir(".")
		t.Fatalf("DirTracer(\"\") is not nil; the working directory holds %d entries", len(entries))
	}
}
