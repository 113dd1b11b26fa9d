package frame

import "testing"

func TestReserved(t *testing.T) {
	for _, v := range []uint64{0x21, 0x40, 0x5f, Reserved(MaxReservedN)} {
		if !IsReserved(v) {
			t.Errorf("%#x not reserved", v)
		}
	}
	for _, v := range []uint64{0, 0x20, 0x22, 0x41, 0x33, 0x100} {
		if IsReserved(v) {
			t.Errorf("%#x reserved", v)
		}
	}
	if Reserved(MaxReservedN) > MaxVarint || Reserved(MaxReservedN)+0x1f <= MaxVarint {
		t.Error("MaxReservedN is not the largest reserved varint")
	}
	for range 100 {
		if v := uint64(GreaseFrameType()); !IsReserved(v) || v > MaxVarint {
			t.Fatalf("frame type %#x", v)
		}
		if v := uint64(GreaseStreamType()); !IsReserved(v) || v > MaxVarint {
			t.Fatalf("stream type %#x", v)
		}
		if v := uint64(GreaseErrorCode()); !IsReserved(v) || v > MaxVarint {
			t.Fatalf("error code %#x", v)
		}
		if s := GreaseSetting(); !IsReserved(s.ID) || s.Value > MaxVarint {
			t.Fatalf("setting %+v", s)
		}
	}
	if Type(0x21).String() != "RESERVED" || Type(0x06).String() != "RESERVED_HTTP2" || StreamType(0x40).String() != "reserved" {
		t.Error("String of reserved values")
	}
}

// A greased frame is skipped everywhere and counted.
func TestGreaseFrameSkipped(t *testing.T) {
	for range 50 {
		b := AppendGreaseFrame(nil)
		b = AppendGoAway(b, 0)
		f, err := NewReader(bytesReader(b)).Next()
		if err != nil || f.Type != TypeGoAway || f.Skipped != 1 {
			t.Fatalf("% x: %+v %v", b, f, err)
		}
	}
}

func TestStrings(t *testing.T) {
	for typ, want := range map[Type]string{
		TypeData: "DATA", TypeHeaders: "HEADERS", TypeCancelPush: "CANCEL_PUSH", TypeSettings: "SETTINGS",
		TypePushPromise: "PUSH_PROMISE", TypeGoAway: "GOAWAY", TypeMaxPushID: "MAX_PUSH_ID", 0x0a: "UNKNOWN",
	} {
		if typ.String() != want {
			t.Errorf("%#x: %s", uint64(typ), typ)
		}
	}
	for st, want := range map[StreamType]string{
		StreamTypeControl: "control", StreamTypePush: "push", StreamTypeQPACKEncoder: "qpack-encoder",
		StreamTypeQPACKDecoder: "qpack-decoder", 0x04: "unknown",
	} {
		if st.String() != want {
			t.Errorf("%#x: %s", uint64(st), st)
		}
	}
	if got := newError(ErrCodeIDError, "bad id").Error(); got != "h3: H3_ID_ERROR: bad id" {
		t.Error(got)
	}
	if got := (&Error{Code: ErrCodeNoError}).Error(); got != "h3: H3_NO_ERROR" {
		t.Error(got)
	}
}

func TestFrameHeaderLen(t *testing.T) {
	for _, c := range []struct {
		t Type
		n uint64
	}{{TypeData, 0}, {TypeData, 63}, {TypeData, 64}, {TypeHeaders, 1 << 20}, {Type(Reserved(1000)), 1 << 40}} {
		if got := FrameHeaderLen(c.t, c.n); got != len(AppendFrameHeader(nil, c.t, c.n)) {
			t.Errorf("%+v: %d", c, got)
		}
	}
}
