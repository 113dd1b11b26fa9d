package qpack

import (
	"slices"
	"testing"
)

// TestStaticNameIndices checks the slotted index of the static table's
// names against the table itself, for every name and for names it lacks,
// and that no slot holds more than two names (a lookup compares at most
// that many).
func TestStaticNameIndices(t *testing.T) {
	want := map[string][]uint8{}
	for i, e := range staticTable {
		want[e.name] = append(want[e.name], uint8(i))
	}
	for name, idxs := range want {
		if got := staticNameIndices(name); !slices.Equal(got, idxs) {
			t.Errorf("staticNameIndices(%q) = %v, want %v", name, got, idxs)
		}
	}
	for _, name := range []string{"", "x", "content-typ", "content-typf", ":statuS", "access-control-allow-headerz", "dat"} {
		if got := staticNameIndices(name); got != nil {
			t.Errorf("staticNameIndices(%q) = %v, want none", name, got)
		}
	}
	for i, slot := range staticNames {
		if len(slot) > 2 {
			t.Errorf("slot %d holds %d names", i, len(slot))
		}
	}
}
