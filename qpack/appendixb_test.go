package qpack

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// unhex decodes hex with spaces, as the RFC prints it.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encoderTable renders the encoder's table as RFC 9204 Appendix B does:
// "abs refs name value" per entry, the acknowledged line after the entries
// below the Known Received Count, and the size.
func encoderTable(e *Encoder) string {
	var sb strings.Builder
	if e.knownReceived <= e.table.dropped() {
		sb.WriteString("^-- acknowledged --^\n")
	}
	for abs := e.table.dropped(); abs < e.table.inserted; abs++ {
		en := e.table.entry(abs)
		fmt.Fprintf(&sb, "%d %d %s %s\n", abs, en.refs, en.name, en.value)
		if abs+1 == e.knownReceived {
			sb.WriteString("^-- acknowledged --^\n")
		}
	}
	fmt.Fprintf(&sb, "Size=%d", e.table.size)
	return sb.String()
}

func decoderTable(d *Decoder) string {
	var sb strings.Builder
	for abs := d.table.dropped(); abs < d.table.inserted; abs++ {
		f, _ := d.TableEntry(abs)
		fmt.Fprintf(&sb, "%d %s %s\n", abs, f.Name, f.Value)
	}
	fmt.Fprintf(&sb, "Size=%d", d.TableSize())
	return sb.String()
}

// TestAppendixB replays the exchange of RFC 9204 Appendix B: our encoder
// writes every encoder stream and field section byte of B.1–B.5, our
// decoder decodes them and writes the decoder stream bytes, and both tables
// match the RFC at each step (the encoder's with its reference counts and
// acknowledged line).
func TestAppendixB(t *testing.T) {
	var e Encoder
	e.noHuffman = true // the RFC's examples use no Huffman coding
	e.SetPeerSettings(220, 100)
	e.SetMaxTableCapacity(220)
	var d Decoder
	d.SetMaxTableCapacity(220)
	d.SetMaxBlockedStreams(100)

	check := func(step, what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s %s:\ngot  %s\nwant %s", step, what, got, want)
		}
	}
	checkBytes := func(step, what string, got []byte, want string) {
		t.Helper()
		if w := unhex(t, want); !bytes.Equal(got, w) {
			t.Errorf("%s %s:\ngot  %x\nwant %x", step, what, got, w)
		}
	}
	decode := func(step string, stream uint64, section []byte, want ...HeaderField) {
		t.Helper()
		fields, blocked, err := d.DecodeFieldSection(stream, section, nil)
		if err != nil || blocked {
			t.Fatalf("%s: decode: blocked=%v err=%v", step, blocked, err)
		}
		if fmt.Sprint(fields) != fmt.Sprint(want) {
			t.Errorf("%s: decoded %v, want %v", step, fields, want)
		}
	}
	toEncoder := func(step, want string) {
		t.Helper()
		ds := d.AppendDecoderStream(nil)
		checkBytes(step, "decoder stream", ds, want)
		if err := e.WriteDecoderStream(ds); err != nil {
			t.Fatalf("%s: encoder: %v", step, err)
		}
	}

	// B.1: a literal with a static name reference; the table stays empty.
	sec := e.EncodeFieldSection(nil, 0, []HeaderField{{Name: ":path", Value: "/index.html"}})
	checkBytes("B.1", "section", sec, "0000 510b 2f69 6e64 6578 2e68 746d 6c")
	checkBytes("B.1", "encoder stream", e.AppendEncoderStream(nil), "")
	decode("B.1", 0, sec, HeaderField{Name: ":path", Value: "/index.html"})
	check("B.1", "encoder table", encoderTable(&e), "^-- acknowledged --^\nSize=0")

	// B.2: capacity, two inserts, and a section with post-base references
	// (the RFC's encoder chose Base 0 here, so the test does too).
	authority := HeaderField{Name: ":authority", Value: "www.example.com"}
	samplePath := HeaderField{Name: ":path", Value: "/sample/path"}
	for _, f := range []HeaderField{authority, samplePath} {
		if !e.makeRoom(f.Size()) {
			t.Fatal("B.2: no room")
		}
		sname, ok, _, _ := staticLookup(f.Name, f.Value)
		e.insertField(&f, sname, ok)
	}
	enc := e.AppendEncoderStream(nil)
	checkBytes("B.2", "encoder stream", enc, "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468")
	if err := d.WriteEncoderStream(enc); err != nil {
		t.Fatal(err)
	}
	s := e.beginSection(4)
	s.base = 0
	e.encodeField(&s, &authority)
	e.encodeField(&s, &samplePath)
	sec = e.finishSection(nil, &s)
	checkBytes("B.2", "section", sec, "0381 10 11")
	check("B.2", "encoder table", encoderTable(&e), "^-- acknowledged --^\n0 1 :authority www.example.com\n1 1 :path /sample/path\nSize=106")
	decode("B.2", 4, sec, authority, samplePath)
	check("B.2", "decoder table", decoderTable(&d), "0 :authority www.example.com\n1 :path /sample/path\nSize=106")
	toEncoder("B.2", "84")
	check("B.2", "encoder table after ack", encoderTable(&e), "0 0 :authority www.example.com\n1 0 :path /sample/path\n^-- acknowledged --^\nSize=106")

	// B.3: a speculative insert with a literal name, acknowledged by an
	// Insert Count Increment.
	custom := HeaderField{Name: "custom-key", Value: "custom-value"}
	if !e.makeRoom(custom.Size()) {
		t.Fatal("B.3: no room")
	}
	e.insertField(&custom, 0, false)
	enc = e.AppendEncoderStream(nil)
	checkBytes("B.3", "encoder stream", enc, "4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565")
	if err := d.WriteEncoderStream(enc); err != nil {
		t.Fatal(err)
	}
	check("B.3", "encoder table", encoderTable(&e), "0 0 :authority www.example.com\n1 0 :path /sample/path\n^-- acknowledged --^\n2 0 custom-key custom-value\nSize=160")
	toEncoder("B.3", "01")
	check("B.3", "encoder table after increment", encoderTable(&e), "0 0 :authority www.example.com\n1 0 :path /sample/path\n2 0 custom-key custom-value\n^-- acknowledged --^\nSize=160")

	// B.4: Duplicate, then a section that the decoder receives before the
	// Duplicate (so it blocks) and whose stream is then cancelled.
	if !e.makeRoomKeeping(authority.Size(), 0) {
		t.Fatal("B.4: no room")
	}
	e.duplicate(0)
	enc = e.AppendEncoderStream(nil)
	checkBytes("B.4", "encoder stream", enc, "02")
	sec = e.EncodeFieldSection(nil, 8, []HeaderField{authority, {Name: ":path", Value: "/"}, custom})
	checkBytes("B.4", "section", sec, "0500 80 c1 81")
	check("B.4", "encoder table", encoderTable(&e), "0 0 :authority www.example.com\n1 0 :path /sample/path\n2 1 custom-key custom-value\n^-- acknowledged --^\n3 1 :authority www.example.com\nSize=217")
	if _, blocked, err := d.DecodeFieldSection(8, sec, nil); err != nil || !blocked {
		t.Fatalf("B.4: section before its Duplicate: blocked=%v err=%v", blocked, err)
	}
	d.CancelStream(8)
	toEncoder("B.4", "48")
	check("B.4", "encoder table after cancellation", encoderTable(&e), "0 0 :authority www.example.com\n1 0 :path /sample/path\n2 0 custom-key custom-value\n^-- acknowledged --^\n3 0 :authority www.example.com\nSize=217")
	if err := d.WriteEncoderStream(enc); err != nil {
		t.Fatal(err)
	}
	if got := d.AppendUnblocked(nil); len(got) != 0 {
		t.Errorf("B.4: cancelled section was decoded: %v", got)
	}
	check("B.4", "decoder table", decoderTable(&d), "0 :authority www.example.com\n1 :path /sample/path\n2 custom-key custom-value\n3 :authority www.example.com\nSize=217")

	// B.5: an insert with a dynamic name reference that evicts entry 0.
	custom2 := HeaderField{Name: "custom-key", Value: "custom-value2"}
	if !e.makeRoom(custom2.Size()) {
		t.Fatal("B.5: no room")
	}
	e.insertField(&custom2, 0, false)
	enc = e.AppendEncoderStream(nil)
	checkBytes("B.5", "encoder stream", enc, "810d 6375 7374 6f6d 2d76 616c 7565 32")
	check("B.5", "encoder table", encoderTable(&e), "1 0 :path /sample/path\n2 0 custom-key custom-value\n^-- acknowledged --^\n3 0 :authority www.example.com\n4 0 custom-key custom-value2\nSize=215")
	if err := d.WriteEncoderStream(enc); err != nil {
		t.Fatal(err)
	}
	check("B.5", "decoder table", decoderTable(&d), "1 :path /sample/path\n2 custom-key custom-value\n3 :authority www.example.com\n4 custom-key custom-value2\nSize=215")
}
