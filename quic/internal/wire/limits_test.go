package wire

import (
	"bytes"
	"runtime"
	"testing"
)

// allocatedBytes returns how many bytes f allocated on the heap. The
// runtime's counter is process-wide, so other goroutines (the race
// detector's, the test framework's) can only add to a reading: the
// smallest of a few readings is f's own.
func allocatedBytes(f func()) uint64 {
	least := ^uint64(0)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// Length and count fields claiming up to 2^62-1 are checked against the
// input before anything is sized from them.
func TestUntrustedLengthsDoNotAllocate(t *testing.T) {
	v := func(x uint64) []byte { return AppendVarint(nil, x) }
	huge := uint64(MaxVarint)
	// An ACK frame announcing 2^62-1 ranges but carrying 50.
	ack := bytes.Join([][]byte{v(1 << 40), v(0), v(huge), v(0), bytes.Repeat([]byte{0, 0}, 50)}, nil)
	// version_information, a token and a connection ID claiming 2^62-1 bytes.
	tp := bytes.Join([][]byte{v(tpVersionInformation), v(huge), {0, 0, 0, 1}}, nil)
	hugeVarint := v(huge)
	stream := append(v(0), v(huge)...)
	initialToken := append([]byte{0xc0, 0, 0, 0, 1, 0, 0}, v(huge)...)
	initialLength := append([]byte{0xc0, 0, 0, 0, 1, 0, 0, 0}, v(huge)...)
	for name, fn := range map[string]func(){
		"ACK":                func() { _, _, _ = ParseAckFrame(FrameTypeAck, ack, nil) },
		"NEW_TOKEN":          func() { _, _, _ = ParseNewTokenFrame(hugeVarint) },
		"STREAM":             func() { _, _, _ = ParseStreamFrame(FrameTypeStream|StreamFlagLen, stream) },
		"CONNECTION_CLOSE":   func() { _, _, _ = ParseConnectionCloseFrame(FrameTypeConnectionCloseApp, stream) },
		"transport params":   func() { _, _ = ParseTransportParameters(tp, RoleClient) },
		"Initial token":      func() { _, _ = ParseHeader(initialToken, 0, false) },
		"Initial length":     func() { _, _ = ParseHeader(initialLength, 0, false) },
		"version negotiated": func() { _, _ = ParseInvariants([]byte{0x80, 0, 0, 0, 0, 255}, 0) },
	} {
		// The bound leaves room for the ACK case, which keeps the 51 ranges
		// it does parse (16 bytes each), and for building the inputs.
		if n := allocatedBytes(fn); n > 4096 {
			t.Errorf("%s: allocated %d bytes", name, n)
		}
	}
}
