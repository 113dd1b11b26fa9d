package wire

import (
	"math/rand/v2"
	"testing"
)

// A packet number encoded with PacketNumberLen decodes back to itself at a
// receiver whose largest processed packet is anywhere from the sender's
// largest acknowledged up to pn-1 (RFC 9000 §17.1).
func TestPacketNumberRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var acked PacketNumber
		switch i % 3 {
		case 0:
			acked = NoPacketNumber
		case 1:
			acked = PacketNumber(rng.Int64N(1 << 20))
		default:
			acked = PacketNumber(rng.Int64N(int64(MaxPacketNumber) - 1<<31))
		}
		pn := acked + 1 + PacketNumber(rng.Int64N(1<<(1+rng.IntN(30))))
		if pn > MaxPacketNumber {
			continue
		}
		n := PacketNumberLen(pn, acked)
		enc := AppendPacketNumber(nil, pn, n)
		trunc, err := ReadPacketNumber(enc, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, largest := range []PacketNumber{acked, pn - 1, acked + (pn-acked)/2} {
			if got := DecodePacketNumber(largest, trunc, n); got != pn {
				t.Fatalf("pn %d acked %d largest %d len %d: decoded %d", pn, acked, largest, n, got)
			}
		}
	}
}

func TestDecodePacketNumberEdges(t *testing.T) {
	for _, c := range []struct {
		largest   PacketNumber
		truncated uint64
		n         int
		want      PacketNumber
	}{
		{NoPacketNumber, 0, 1, 0},
		{NoPacketNumber, 0xff, 1, 0xff}, // cannot go below 0
		{0xff, 0x00, 1, 0x100},
		{0x100, 0xff, 1, 0xff},
		{MaxPacketNumber - 1, 0xff, 1, MaxPacketNumber}, // cannot go above 2^62-1
		{MaxPacketNumber, 0x00, 1, MaxPacketNumber - 0xff},
	} {
		if got := DecodePacketNumber(c.largest, c.truncated, c.n); got != c.want {
			t.Errorf("DecodePacketNumber(%#x, %#x, %d) = %#x, want %#x", c.largest, c.truncated, c.n, got, c.want)
		}
	}
	if _, err := ReadPacketNumber([]byte{1, 2}, 3); err == nil {
		t.Error("ReadPacketNumber on a short input succeeded")
	}
	if _, err := ReadPacketNumber([]byte{1, 2, 3, 4, 5}, 5); err == nil {
		t.Error("ReadPacketNumber with length 5 succeeded")
	}
}
