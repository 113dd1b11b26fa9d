package tls13

import (
	"fmt"
	"testing"
)

// FuzzDriveServerSplit feeds a server a fuzzed client flight twice: whole,
// and in pieces cut where the fuzzer says, each piece in a buffer that is
// overwritten as soon as HandleData returns, as QUIC hands over CRYPTO data
// where it lies in a stream's chunks and then reuses them (HandleData
// keeps no reference to data). Both servers must do the same: the same
// events (kinds, levels, suites, the peer's transport parameters) and the
// same error.
func FuzzDriveServerSplit(f *testing.F) {
	ch, flight := recordedClientFlight(f)
	f.Add(joinFlight(ch, flight), []byte{0, 2, 3, 200})
	f.Add(joinFlight(ch, nil), []byte{byte(len(ch)/2 - 1)})
	f.Add(joinFlight(ch, flight), []byte{byte(len(ch) - 1), 3, 30, 255, 255})
	cfg := baseServerConfig(testLeaf(leafOpts{key: "p256"}))
	f.Fuzz(func(t *testing.T, b, cuts []byte) {
		first, second := splitFlight(b)
		whole := driveServer(t, cfg, first, second, nil)
		split := driveServer(t, cfg, first, second, cuts)
		if whole != split {
			t.Fatalf("fed whole: %s\nfed in pieces %v: %s", whole, cuts, split)
		}
	})
}

// driveServer feeds a new server first at the Initial level and second at
// the Handshake level, in pieces of cuts[i]+1 bytes (then the rest) each
// in a scratch buffer poisoned after use, and describes what it did.
func driveServer(t *testing.T, cfg *Config, first, second, cuts []byte) string {
	s := Server(cfg, serverParams)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var out []string
	// Room behind each piece, as in a stream's chunk: a handshake that
	// kept data to complete a message in place would be caught.
	scratch := make([]byte, 0, 64<<10)
	feed := func(level Level, b []byte) error {
		for len(b) > 0 {
			n := len(b)
			if len(cuts) > 0 {
				n, cuts = min(n, int(cuts[0])+1), cuts[1:]
			}
			scratch = append(scratch[:0], b[:n]...)
			err := s.HandleData(level, scratch)
			for i := range scratch {
				scratch[i] = 0xee
			}
			if err != nil {
				return err
			}
			b = b[n:]
		}
		return nil
	}
	err := feed(LevelInitial, first)
	requireAlert(t, err)
	if err == nil {
		err = feed(LevelHandshake, second)
		requireAlert(t, err)
	}
	for ev := s.NextEvent(); ev.Kind != EventNone; ev = s.NextEvent() {
		e := fmt.Sprintf("%d@%v/%x", ev.Kind, ev.Level, ev.Suite)
		if ev.Kind == EventTransportParameters {
			e += fmt.Sprintf("=%x", ev.Data)
		}
		out = append(out, e)
	}
	return fmt.Sprintf("events %v, error %v", out, err)
}
