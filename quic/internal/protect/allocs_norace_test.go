//go:build !race

// The race detector makes sync.Pool (hkdf's hash states) drop entries at
// random, so allocation counts are only checked without it.

package protect

import "testing"

// TestInitialKeysAllocs checks that making the Initial keys allocates only
// the two Keys: the secrets and the key material stay on the stack, and
// the cipher states wait for the first packet (for AES-GCM, crypto/aes's
// block that cipher.NewGCM copies, the GCM and the header protection
// block: TestFirstPacketAllocs).
func TestInitialKeysAllocs(t *testing.T) {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	InitialKeys(Version1, dcid) // fill hkdf's pool
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := InitialKeys(Version1, dcid); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("InitialKeys: %v allocations, want at most 2", allocs)
	}
}

// TestFirstPacketAllocs checks that the first packet sealed with new
// AES-GCM keys makes their three cipher states and nothing else, and the
// next allocates nothing.
func TestFirstPacketAllocs(t *testing.T) {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	header, payload := oneRTTPacket()
	buf := make([]byte, 0, 1500)
	var k *Keys
	seal := func() {
		pkt := append(append(buf[:0], header...), payload...)
		if _, err := k.SealPacket(pkt, len(header)-2, 0x1234); err != nil {
			t.Fatal(err)
		}
	}
	k, _, _ = InitialKeys(Version1, dcid)
	seal() // fill hkdf's pool
	if allocs := testing.AllocsPerRun(100, func() {
		k, _, _ = InitialKeys(Version1, dcid)
		seal()
	}); allocs > 2+3 {
		t.Errorf("InitialKeys and a first packet: %v allocations, want at most 5", allocs)
	}
	if allocs := testing.AllocsPerRun(100, seal); allocs != 0 {
		t.Errorf("a later packet: %v allocations, want 0", allocs)
	}
}
