package qpack

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSimulatedConnection runs an encoder and a decoder over simulated
// streams: sections arrive in any order relative to the encoder stream,
// both instruction streams arrive in random chunks, acknowledgments lag, and
// some streams are cancelled before their section arrives. The decoder must
// never see more blocked streams than allowed (the encoder's accounting), a
// reference to an evicted entry, or a wrong field.
func TestSimulatedConnection(t *testing.T) {
	var blockedSeen, inserts int
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			b, i := simulate(t, seed)
			blockedSeen += b
			inserts += i
		})
	}
	// The runs must have exercised what they are about.
	if blockedSeen < 50 || inserts < 200 {
		t.Fatalf("%d sections blocked, %d inserts over all runs", blockedSeen, inserts)
	}
}

func simulate(t *testing.T, seed uint64) (blockedSeen, inserts int) {
	r := rand.New(rand.NewPCG(seed, 99))
	const capacity, blocked = 512, 3
	e := new(Encoder)
	e.SetPeerSettings(capacity, blocked)
	d := newDecoder(capacity, blocked)

	type section struct {
		stream uint64
		data   []byte
		fields []HeaderField
	}
	var (
		encWire, decWire []byte
		inFlight         []section // sent, not yet delivered to the decoder
		held             = map[uint64][]HeaderField{}
		nextStream       uint64
		decoded          int
	)
	field := func() HeaderField {
		names := []string{":authority", ":path", "user-agent", "x-trace", "cookie", "accept"}
		n := names[r.IntN(len(names))]
		return HeaderField{Name: n, Value: fmt.Sprintf("value-%d", r.IntN(6)*r.IntN(4))}
	}
	check := func(stream uint64, got, want []HeaderField) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("stream %d:\ngot  %v\nwant %v", stream, got, want)
		}
		decoded++
	}
	takeUnblocked := func() {
		for _, u := range d.AppendUnblocked(nil) {
			want, ok := held[u.StreamID]
			if !ok || u.Err != nil {
				t.Fatalf("unexpected unblocked stream %d (%v)", u.StreamID, u.Err)
			}
			delete(held, u.StreamID)
			check(u.StreamID, u.Fields, want)
		}
	}
	deliverEnc := func(all bool) {
		n := len(encWire)
		if !all && n > 0 {
			n = r.IntN(n + 1)
		}
		if err := d.WriteEncoderStream(encWire[:n]); err != nil {
			t.Fatalf("encoder stream: %v", err)
		}
		encWire = encWire[n:]
		takeUnblocked()
	}
	deliverDec := func(all bool) {
		decWire = d.AppendDecoderStream(decWire)
		n := len(decWire)
		if !all && n > 0 {
			n = r.IntN(n + 1)
		}
		if err := e.WriteDecoderStream(decWire[:n]); err != nil {
			t.Fatalf("decoder stream: %v", err)
		}
		decWire = decWire[n:]
	}
	deliverSection := func(i int) {
		s := inFlight[i]
		inFlight = slices.Delete(inFlight, i, i+1)
		got, isBlocked, err := d.DecodeFieldSection(s.stream, s.data, nil)
		if err != nil {
			t.Fatalf("stream %d: %v", s.stream, err)
		}
		if isBlocked {
			blockedSeen++
			held[s.stream] = s.fields
			return
		}
		check(s.stream, got, s.fields)
	}

	for step := 0; step < 3000; step++ {
		switch k := r.IntN(10); {
		case k < 3:
			fields := make([]HeaderField, 1+r.IntN(6))
			for i := range fields {
				fields[i] = field()
			}
			sec := e.EncodeFieldSection(nil, nextStream, fields)
			inFlight = append(inFlight, section{nextStream, sec, fields})
			nextStream += 4
			encWire = e.AppendEncoderStream(encWire)
		case k < 5:
			deliverEnc(false)
		case k < 7 && len(inFlight) > 0:
			deliverSection(r.IntN(len(inFlight)))
		case k < 9:
			deliverDec(false)
		case len(inFlight) > 0:
			// The request is reset before its section arrives.
			i := r.IntN(len(inFlight))
			d.CancelStream(inFlight[i].stream)
			inFlight = slices.Delete(inFlight, i, i+1)
		}
		if d.TableSize() > capacity || e.TableSize() > capacity {
			t.Fatal("table over capacity")
		}
	}
	// Drain everything.
	for len(inFlight) > 0 {
		deliverSection(0)
	}
	deliverEnc(true)
	deliverDec(true)
	if len(held) != 0 {
		t.Fatalf("%d sections never unblocked", len(held))
	}
	if len(e.unacked) != 0 || e.KnownReceivedCount() != e.InsertCount() {
		t.Fatalf("encoder: %d unacknowledged sections, known received %d of %d", len(e.unacked), e.KnownReceivedCount(), e.InsertCount())
	}
	for abs := e.table.dropped(); abs < e.table.inserted; abs++ {
		if e.table.entry(abs).refs != 0 {
			t.Fatalf("entry %d still referenced", abs)
		}
	}
	if decoded < 500 {
		t.Fatalf("only %d sections decoded", decoded)
	}
	t.Logf("%d sections decoded, %d of them blocked first; %d inserts", decoded, blockedSeen, e.InsertCount())
	return blockedSeen, int(e.InsertCount())
}
