package frame

import "testing"

func TestSettingsRoundTripEach(t *testing.T) {
	for _, s := range []Settings{
		{},
		{QPACKMaxTableCapacity: 4096},
		{QPACKMaxTableCapacity: MaxVarint},
		{MaxFieldSectionSize: 16 << 10},
		{QPACKBlockedStreams: 100},
		{EnableConnectProtocol: true},
		{H3Datagram: true},
		{QPACKMaxTableCapacity: 1, MaxFieldSectionSize: 2, QPACKBlockedStreams: 3, EnableConnectProtocol: true, H3Datagram: true},
	} {
		b := AppendSettings(nil, &s)
		f, err := NewReader(bytesReader(b)).Next()
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if f.Type != TypeSettings || f.Length != uint64(len(b)-2) {
			t.Fatalf("%+v: frame %v length %d", s, f.Type, f.Length)
		}
		if f.Settings.QPACKMaxTableCapacity != s.QPACKMaxTableCapacity ||
			f.Settings.MaxFieldSectionSize != s.MaxFieldSectionSize ||
			f.Settings.QPACKBlockedStreams != s.QPACKBlockedStreams ||
			f.Settings.EnableConnectProtocol != s.EnableConnectProtocol ||
			f.Settings.H3Datagram != s.H3Datagram || f.Settings.Extra != nil {
			t.Errorf("sent %+v, parsed %+v", s, f.Settings)
		}
	}
}

func settingsPayload(kv ...uint64) []byte {
	var b []byte
	for _, v := range kv {
		b = appendVarint(b, v)
	}
	return b
}

func TestSettingsIgnoresUnknownAndGrease(t *testing.T) {
	s := Settings{QPACKBlockedStreams: 7, Extra: []Setting{GreaseSetting(), {ID: 0x4242, Value: 9}, {ID: 0x00, Value: 1}}}
	got, err := ParseSettings(s.appendPayload(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.QPACKBlockedStreams != 7 || got.Extra != nil {
		t.Fatalf("parsed %+v", got)
	}
}

func TestSettingsZeroValuesExplicit(t *testing.T) {
	s, err := ParseSettings(settingsPayload(0x08, 0, 0x33, 0, 0x01, 0, 0x07, 0))
	if err != nil {
		t.Fatal(err)
	}
	if s.QPACKMaxTableCapacity != 0 || s.QPACKBlockedStreams != 0 || s.EnableConnectProtocol || s.H3Datagram {
		t.Fatalf("parsed %+v", s)
	}
}

// A peer's SETTINGS_MAX_FIELD_SECTION_SIZE of 0 is kept as 1, which refuses
// exactly the same field sections (sizes are 0 or >= 32).
func TestSettingsMaxFieldSectionSizeZero(t *testing.T) {
	s, err := ParseSettings(settingsPayload(0x06, 0))
	if err != nil || s.MaxFieldSectionSize != 1 {
		t.Fatalf("got %+v, %v", s, err)
	}
}

// h3spec case 44: MUST send H3_SETTINGS_ERROR if duplicate setting
// identifiers exist [HTTP/3 7.2.4].
func TestH3Spec_Case44_DuplicateSetting(t *testing.T) {
	for _, p := range [][]byte{
		settingsPayload(0x01, 0, 0x01, 0),
		settingsPayload(0x06, 100, 0x07, 1, 0x06, 100),
		settingsPayload(0x08, 1, 0x08, 1),
		settingsPayload(0x33, 1, 0x33, 0),
		settingsPayload(0x21, 1, 0x21, 2),     // reserved
		settingsPayload(0x1234, 1, 0x1234, 1), // unknown
	} {
		_, err := ParseSettings(p)
		wantCode(t, err, ErrCodeSettingsError)
	}
}

// h3spec case 45: MUST send H3_SETTINGS_ERROR if HTTP/2 settings are
// included [HTTP/3 7.2.4.1].
func TestH3Spec_Case45_HTTP2Settings(t *testing.T) {
	for id := uint64(2); id <= 5; id++ {
		_, err := ParseSettings(settingsPayload(0x06, 1000, id, 0))
		wantCode(t, err, ErrCodeSettingsError)
	}
}

func TestSettingsBooleanOutOfRange(t *testing.T) {
	for _, id := range []uint64{SettingEnableConnectProtocol, SettingH3Datagram} {
		for _, v := range []uint64{2, 100, MaxVarint} {
			_, err := ParseSettings(settingsPayload(id, v))
			wantCode(t, err, ErrCodeSettingsError)
		}
	}
}

func TestSettingsTruncated(t *testing.T) {
	full := settingsPayload(0x06, 16384, 0x01, 4096)
	for i := 1; i < len(full); i++ {
		if i == len(settingsPayload(0x06, 16384)) { // boundary between the two settings
			continue
		}
		_, err := ParseSettings(full[:i])
		wantCode(t, err, ErrCodeFrameError)
	}
}

// Unknown identifiers past the tracked ones are accepted, never an error.
func TestSettingsManyUnknown(t *testing.T) {
	var kv []uint64
	for i := range uint64(200) {
		kv = append(kv, 0x100+i, i)
	}
	if _, err := ParseSettings(settingsPayload(kv...)); err != nil {
		t.Fatal(err)
	}
}

func TestParseSettingsNoAllocs(t *testing.T) {
	p := settingsPayload(0x01, 4096, 0x06, 16384, 0x07, 100, 0x08, 1, 0x33, 1, 0x21, 5)
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseSettings(p) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
