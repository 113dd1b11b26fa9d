package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestStatelessReset(t *testing.T) {
	token := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	unpredictable := bytes.Repeat([]byte{0xff}, 30)
	reset, err := AppendStatelessReset(nil, unpredictable, &token)
	if err != nil {
		t.Fatal(err)
	}
	if len(reset) != 46 || reset[0]&0xc0 != 0x40 {
		t.Fatalf("reset %x", reset)
	}
	// To anyone else it parses as a short header packet.
	if h, err := ParseHeader(reset, 8, false); err != nil || h.Type != Packet1RTT {
		t.Errorf("ParseHeader = %+v, %v", h, err)
	}
	if got, ok := TrailingStatelessResetToken(reset); !ok || got != token {
		t.Errorf("TrailingStatelessResetToken = %x, %v", got, ok)
	}
	if _, ok := TrailingStatelessResetToken(reset[:20]); ok {
		t.Error("20-byte datagram taken for a stateless reset")
	}
	if _, err := AppendStatelessReset(nil, unpredictable[:4], &token); !errors.Is(err, ErrStatelessResetTooShort) {
		t.Errorf("4 unpredictable bytes: %v", err)
	}
}
