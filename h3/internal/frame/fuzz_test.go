package frame

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzFrameReader reads arbitrary bytes as a stream of frames, through the
// control-stream and message state machines. Nothing may panic, every
// non-EOF error is an *Error, the payload buffer stays within the limit,
// and the frames read re-encode to bytes that read back the same.
func FuzzFrameReader(f *testing.F) {
	s := Settings{QPACKMaxTableCapacity: 4096, MaxFieldSectionSize: 16384, QPACKBlockedStreams: 16, EnableConnectProtocol: true, H3Datagram: true}
	f.Add(AppendSettings(nil, &s), false)
	f.Add(AppendGoAway(AppendSettings(nil, &Settings{}), 4), true)
	f.Add(AppendData(AppendHeaders(nil, []byte{0, 0, 0xd1}), []byte("hello")), false)
	f.Add(AppendPushPromise(AppendFrame(nil, 0x21, []byte{1}), 3, []byte{0, 0}), true)
	f.Add(AppendMaxPushID(AppendCancelPush(nil, 1), 2), false)
	f.Add([]byte{0x02, 0x00}, false)
	f.Add(AppendPriorityUpdate(AppendSettings(nil, &Settings{}), TypePriorityUpdate, 4, []byte("u=0, i")), false)
	f.Add(AppendPriorityUpdate(AppendSettings(nil, &Settings{}), TypePriorityUpdatePush, 1, nil), true)
	f.Add([]byte{0x00, 0x80, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, b []byte, oneByte bool) {
		var src io.Reader = bytes.NewReader(b)
		if oneByte {
			src = iotest.OneByteReader(src)
		}
		r := NewReader(src)
		r.MaxFieldSectionPayload = 1024
		c := ControlStream{IsClient: oneByte}
		var m MessageState
		var re []byte
		for {
			fr, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !IsFrameError(err) {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			if cap(r.payload) > 1024 {
				t.Fatalf("payload buffer %d", cap(r.payload))
			}
			_ = c.OnFrame(&fr)
			if CheckAllowed(StreamRequest, fr.Type, true) == nil {
				_ = m.OnFrame(fr.Type)
			}
			switch fr.Type {
			case TypeData:
				data, err := io.ReadAll(r)
				if err != nil {
					if !IsFrameError(err) {
						t.Fatalf("untyped DATA error %v", err)
					}
					return
				}
				re = AppendData(re, data)
			case TypeHeaders:
				re = AppendHeaders(re, fr.FieldSection)
			case TypePushPromise:
				re = AppendPushPromise(re, fr.ID, fr.FieldSection)
			case TypeCancelPush:
				re = AppendCancelPush(re, fr.ID)
			case TypeGoAway:
				re = AppendGoAway(re, fr.ID)
			case TypeMaxPushID:
				re = AppendMaxPushID(re, fr.ID)
			case TypeSettings:
				re = AppendSettings(re, &fr.Settings)
			case TypePriorityUpdate, TypePriorityUpdatePush:
				re = AppendPriorityUpdate(re, fr.Type, fr.ID, fr.PriorityFieldValue)
			}
		}
		// The re-encoded frames are canonical: reading and re-encoding them
		// again gives the same bytes.
		r2 := NewReader(bytes.NewReader(re))
		var again []byte
		for {
			fr, err := r2.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("re-encoded frames fail: %v", err)
			}
			switch fr.Type {
			case TypeData:
				data, _ := io.ReadAll(r2)
				again = AppendData(again, data)
			case TypeHeaders:
				again = AppendHeaders(again, fr.FieldSection)
			case TypePushPromise:
				again = AppendPushPromise(again, fr.ID, fr.FieldSection)
			case TypeCancelPush:
				again = AppendCancelPush(again, fr.ID)
			case TypeGoAway:
				again = AppendGoAway(again, fr.ID)
			case TypeMaxPushID:
				again = AppendMaxPushID(again, fr.ID)
			case TypeSettings:
				again = AppendSettings(again, &fr.Settings)
			case TypePriorityUpdate, TypePriorityUpdatePush:
				again = AppendPriorityUpdate(again, fr.Type, fr.ID, fr.PriorityFieldValue)
			}
		}
		if !bytes.Equal(re, again) {
			t.Fatalf("re-encoding not stable:\n% x\n% x", re, again)
		}
	})
}

// FuzzSettings parses arbitrary SETTINGS payloads; an accepted payload
// re-encodes to one that parses to the same values.
func FuzzSettings(f *testing.F) {
	f.Add(settingsPayload(0x01, 4096, 0x06, 16384, 0x07, 100, 0x08, 1, 0x33, 1))
	f.Add(settingsPayload(0x21, 7, 0x06, 0))
	f.Add(settingsPayload(0x02, 1))
	f.Add(settingsPayload(0x08, 2))
	f.Add([]byte{0x06})
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := ParseSettings(p)
		if err != nil {
			if !IsFrameError(err) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		s2, err := ParseSettings(s.appendPayload(nil))
		if err != nil {
			t.Fatalf("re-encoded settings fail: %v", err)
		}
		if s2.QPACKMaxTableCapacity != s.QPACKMaxTableCapacity || s2.MaxFieldSectionSize != s.MaxFieldSectionSize ||
			s2.QPACKBlockedStreams != s.QPACKBlockedStreams || s2.EnableConnectProtocol != s.EnableConnectProtocol ||
			s2.H3Datagram != s.H3Datagram {
			t.Fatalf("%+v became %+v", s, s2)
		}
	})
}
