//go:build !race

// The race detector makes sync.Pool (hkdf's hash states) drop entries at
// random, so allocation counts are only checked without it.

package protect

import "testing"

// TestInitialKeysAllocs checks that making the Initial keys allocates only
// the two Keys and their cipher states (for AES-GCM, crypto/aes's block
// that cipher.NewGCM copies, the GCM and the header protection block):
// the secrets and the key material stay on the stack.
func TestInitialKeysAllocs(t *testing.T) {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	InitialKeys(Version1, dcid) // fill hkdf's pool
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := InitialKeys(Version1, dcid); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2*4 {
		t.Errorf("InitialKeys: %v allocations, want at most 8", allocs)
	}
}
