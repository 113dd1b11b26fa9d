package qlog

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/skiffnet/skiff/quic"
)

// FuzzFrames logs arbitrary packet payloads, as a peer could send them
// (received packets are logged frame by frame): logging never panics and
// every record is valid JSON.
func FuzzFrames(f *testing.F) {
	f.Add([]byte{0x01, 0x00, 0x00})
	f.Add(everyFrame(f))
	f.Add([]byte{0x02, 0x05, 0x00, 0x01, 0x02, 0x00, 0x01})       // ACK with a range below zero
	f.Add([]byte{0x08, 0x04})                                     // STREAM cut short
	f.Add([]byte{0x1c, 0x41, 0x00, 0x08, 0x03, 0xff, 0xfe, 0x22}) // CONNECTION_CLOSE, odd reason
	f.Fuzz(func(t *testing.T, payload []byte) {
		var buf bytes.Buffer
		tr := NewTracer(&buf, false, nil)
		tr.PacketReceivedFrames(quic.PacketInfo{Type: "1RTT", Number: 1, Size: len(payload), Payload: payload, AckDelayExponent: 20})
		tr.Closed(quic.Stats{})
		for _, rec := range bytes.Split(buf.Bytes()[1:], []byte{recordSeparator}) {
			if !json.Valid(rec) {
				t.Fatalf("invalid record %q", rec)
			}
		}
	})
}
