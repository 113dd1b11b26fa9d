//go:build !race

// The race detector makes sync.Pool drop entries at random, so the
// allocation count is only checked without it.

package hkdf

import "testing"

// TestAppendExpandLabelAllocs checks that deriving into a buffer with room
// allocates nothing: QUIC derives every packet protection key this way.
func TestAppendExpandLabelAllocs(t *testing.T) {
	secret := make([]byte, 32)
	var key [32]byte
	SHA256.AppendExpandLabel(key[:0], secret, "quic key", nil, 16) // fill the pool
	allocs := testing.AllocsPerRun(100, func() {
		SHA256.AppendExpandLabel(key[:0], secret, "quic key", nil, 16)
	})
	if allocs != 0 {
		t.Errorf("AppendExpandLabel into a buffer with room: %v allocations, want 0", allocs)
	}
}

// TestAppendMACAllocs checks that a MAC into a buffer with room, of a
// message on the caller's stack, allocates nothing: QUIC's stateless reset
// tokens are made this way.
func TestAppendMACAllocs(t *testing.T) {
	var out [32]byte
	allocs := testing.AllocsPerRun(100, func() {
		var key [32]byte
		var id [20]byte
		SHA256.AppendMAC(out[:0], key[:], id[:])
	})
	if allocs != 0 {
		t.Errorf("AppendMAC into a buffer with room: %v allocations, want 0", allocs)
	}
}
