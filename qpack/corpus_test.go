package qpack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The QPACK Offline Interop corpus (qpackers/qifs), read from the project's
// shared test data: ../shared/testdata/qifs relative to the repository root.

// qifsDir walks up from the package directory to the first directory that
// has shared/testdata/qifs, or skips the test.
func qifsDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "testdata", "qifs")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("QPACK interop corpus not found: no shared/testdata/qifs in any parent directory of the package")
		}
		dir = parent
	}
}

var (
	qifCacheMu sync.Mutex
	qifCache   = map[string][][]HeaderField{}
)

// readQIF parses a .qif file: name<TAB>value lines, a blank line ending each
// section, # comments.
func readQIF(t testing.TB, path string) [][]HeaderField {
	t.Helper()
	qifCacheMu.Lock()
	defer qifCacheMu.Unlock()
	if s, ok := qifCache[path]; ok {
		return s
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sections [][]HeaderField
	var cur []HeaderField
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			if cur != nil {
				sections = append(sections, cur)
				cur = nil
			}
			continue
		}
		name, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: line without a tab: %q", path, line)
		}
		cur = append(cur, HeaderField{Name: name, Value: value})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		sections = append(sections, cur)
	}
	qifCache[path] = sections
	return sections
}

type interopBlock struct {
	stream uint64
	data   []byte
}

// readInterop splits an encoded file into its blocks:
// StreamID (uint64 BE) | Length (uint32 BE) | data.
func readInterop(t testing.TB, path string) []interopBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []interopBlock
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("%s: truncated block header", path)
		}
		id, n := binary.BigEndian.Uint64(b), binary.BigEndian.Uint32(b[8:])
		b = b[12:]
		if uint64(n) > uint64(len(b)) {
			t.Fatalf("%s: truncated block", path)
		}
		blocks = append(blocks, interopBlock{id, b[:n]})
		b = b[n:]
	}
	return blocks
}

type interopName struct {
	qif               string
	capacity, blocked uint64
	ack               bool
}

// parseInteropName parses <qif>.out.<capacity>.<blocked>.<ack>.
func parseInteropName(name string) (interopName, bool) {
	qif, rest, ok := strings.Cut(name, ".out.")
	if !ok {
		return interopName{}, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return interopName{}, false
	}
	c, err1 := strconv.ParseUint(parts[0], 10, 64)
	bl, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || (parts[2] != "0" && parts[2] != "1") {
		return interopName{}, false
	}
	return interopName{qif, c, bl, parts[2] == "1"}, true
}

// decodeInterop decodes an encoded file with a decoder configured as the
// file name says and returns the sections in stream order.
func decodeInterop(t testing.TB, blocks []interopBlock, capacity, blocked uint64) [][]HeaderField {
	t.Helper()
	var d Decoder
	d.SetMaxTableCapacity(capacity)
	d.SetMaxBlockedStreams(blocked)
	// The corpus was made under draft-ietf-quic-qpack-05, where the table
	// started at the maximum capacity; RFC 9204 §3.2.3 starts it at 0 and
	// has the encoder send Set Dynamic Table Capacity, which most of these
	// files lack.
	d.table.capacity = capacity
	byStream := map[uint64][]HeaderField{}
	var unblocked []DecodedSection
	for _, bl := range blocks {
		if bl.stream == 0 {
			if err := d.WriteEncoderStream(bl.data); err != nil {
				t.Fatalf("encoder stream: %v", err)
			}
			unblocked = d.AppendUnblocked(unblocked[:0])
			for _, s := range unblocked {
				if s.Err != nil {
					t.Fatalf("stream %d: %v", s.StreamID, s.Err)
				}
				byStream[s.StreamID] = s.Fields
			}
			continue
		}
		fields, isBlocked, err := d.DecodeFieldSection(bl.stream, bl.data, nil)
		if err != nil {
			t.Fatalf("stream %d: %v", bl.stream, err)
		}
		if !isBlocked {
			byStream[bl.stream] = fields
		}
		d.AppendDecoderStream(nil)
	}
	if n := d.BlockedStreams(); n != 0 {
		t.Fatalf("%d sections still blocked at the end", n)
	}
	ids := make([]uint64, 0, len(byStream))
	for id := range byStream {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([][]HeaderField, len(ids))
	for i, id := range ids {
		out[i] = byStream[id]
	}
	return out
}

// checkInterop decodes an encoded file like decodeInterop but compares each
// field with the .qif as it is decoded, without building strings (the
// corpus is large and the test must stay fast under the race detector).
func checkInterop(t testing.TB, blocks []interopBlock, capacity, blocked uint64, want [][]HeaderField) {
	t.Helper()
	var ids []uint64
	for _, bl := range blocks {
		if bl.stream != 0 {
			ids = append(ids, bl.stream)
		}
	}
	slices.Sort(ids)
	if len(ids) != len(want) {
		t.Fatalf("%d sections in the file, %d in the .qif", len(ids), len(want))
	}
	var d Decoder
	d.SetMaxTableCapacity(capacity)
	d.SetMaxBlockedStreams(blocked)
	d.table.capacity = capacity // draft-05 initial capacity; see decodeInterop
	done := 0
	compare := func(id uint64, got []HeaderField) {
		i, _ := slices.BinarySearch(ids, id)
		if !slices.Equal(got, want[i]) {
			t.Fatalf("stream %d:\ngot  %v\nwant %v", id, got, want[i])
		}
		done++
	}
	var unblocked []DecodedSection
	for _, bl := range blocks {
		if bl.stream == 0 {
			if err := d.WriteEncoderStream(bl.data); err != nil {
				t.Fatalf("encoder stream: %v", err)
			}
			unblocked = d.AppendUnblocked(unblocked[:0])
			for _, s := range unblocked {
				if s.Err != nil {
					t.Fatalf("stream %d: %v", s.StreamID, s.Err)
				}
				compare(s.StreamID, s.Fields)
			}
			continue
		}
		i, _ := slices.BinarySearch(ids, bl.stream)
		wantFields, n, ok := want[i], 0, true
		isBlocked, err := d.DecodeFieldSectionFunc(bl.stream, bl.data, func(name, value []byte, never bool) {
			if n >= len(wantFields) || string(name) != wantFields[n].Name || string(value) != wantFields[n].Value {
				ok = false
			}
			n++
		})
		if err != nil {
			t.Fatalf("stream %d: %v", bl.stream, err)
		}
		if !isBlocked {
			if !ok || n != len(wantFields) {
				got := decodeAgain(t, blocks, capacity, blocked, bl.stream)
				t.Fatalf("stream %d:\ngot  %v\nwant %v", bl.stream, got, wantFields)
			}
			done++
		}
		d.AppendDecoderStream(nil)
	}
	if n := d.BlockedStreams(); n != 0 || done != len(want) {
		t.Fatalf("%d sections still blocked at the end; %d of %d decoded", n, done, len(want))
	}
}

// decodeAgain decodes the file with strings, to show a mismatch.
func decodeAgain(t testing.TB, blocks []interopBlock, capacity, blocked, stream uint64) []HeaderField {
	all := decodeInterop(t, blocks, capacity, blocked)
	var ids []uint64
	for _, bl := range blocks {
		if bl.stream != 0 {
			ids = append(ids, bl.stream)
		}
	}
	slices.Sort(ids)
	i, _ := slices.BinarySearch(ids, stream)
	return all[i]
}

func sameSections(t testing.TB, got, want [][]HeaderField) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decoded %d sections, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("section %d:\ngot  %v\nwant %v", i, got[i], want[i])
		}
	}
}

// TestInteropCorpusDecode decodes every file of every implementation under
// encoded/qpack-05 and compares it with its .qif.
func TestInteropCorpusDecode(t *testing.T) {
	root := qifsDir(t)
	encoded := filepath.Join(root, "encoded", "qpack-05")
	impls, err := os.ReadDir(encoded)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, impl := range impls {
		if !impl.IsDir() || impl.Name() == "examples" {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(encoded, impl.Name()))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(impl.Name(), func(t *testing.T) {
			for _, ent := range entries {
				in, ok := parseInteropName(ent.Name())
				if !ok {
					t.Errorf("unexpected file name %s", ent.Name())
					continue
				}
				t.Run(ent.Name(), func(t *testing.T) {
					want := readQIF(t, filepath.Join(root, "qifs", in.qif+".qif"))
					blocks := readInterop(t, filepath.Join(encoded, impl.Name(), ent.Name()))
					checkInterop(t, blocks, in.capacity, in.blocked, want)
				})
				files++
			}
		})
	}
	if files < 500 {
		t.Errorf("decoded only %d files", files)
	}
}

// TestInteropCorpusExamples decodes examples.out.220.100.1, the Appendix B
// exchange (its expected output is in the RFC, not a .qif).
func TestInteropCorpusExamples(t *testing.T) {
	root := qifsDir(t)
	blocks := readInterop(t, filepath.Join(root, "encoded", "qpack-05", "examples", "examples.out.220.100.1"))
	got := decodeInterop(t, blocks, 220, 100)
	want := [][]HeaderField{
		{{Name: ":path", Value: "/index.html"}},
		{{Name: ":authority", Value: "www.example.com"}, {Name: ":path", Value: "/sample/path"}},
		{{Name: ":authority", Value: "www.example.com"}, {Name: ":path", Value: "/"}, {Name: "custom-key", Value: "custom-value"}},
	}
	sameSections(t, got, want)
}

// roundTrip encodes sections with our encoder and decodes them with our
// decoder, passing encoder stream bytes before each section and, when ack
// is set, decoder stream bytes back after it. It returns the bytes the
// encoder wrote (encoder stream plus sections).
func roundTrip(t testing.TB, sections [][]HeaderField, capacity, blocked uint64, ack bool) int {
	t.Helper()
	var e Encoder
	e.SetPeerSettings(capacity, blocked)
	e.SetMaxTableCapacity(capacity)
	var d Decoder
	d.SetMaxTableCapacity(capacity)
	d.SetMaxBlockedStreams(blocked)
	total := 0
	var sec, enc, dec []byte
	var fields []HeaderField
	for i, want := range sections {
		stream := uint64(4 * i)
		sec = e.EncodeFieldSection(sec[:0], stream, want)
		enc = e.AppendEncoderStream(enc[:0])
		total += len(sec) + len(enc)
		if err := d.WriteEncoderStream(enc); err != nil {
			t.Fatalf("section %d: encoder stream: %v", i, err)
		}
		var isBlocked bool
		var err error
		fields, isBlocked, err = d.DecodeFieldSection(stream, sec, fields[:0])
		if err != nil || isBlocked {
			t.Fatalf("section %d: blocked=%v err=%v", i, isBlocked, err)
		}
		if !slices.Equal(fields, want) {
			t.Fatalf("section %d:\ngot  %v\nwant %v", i, fields, want)
		}
		dec = d.AppendDecoderStream(dec[:0])
		if ack {
			if err := e.WriteDecoderStream(dec); err != nil {
				t.Fatalf("section %d: decoder stream: %v", i, err)
			}
		}
	}
	if e.TableSize() > capacity || d.TableSize() > capacity {
		t.Fatalf("table sizes %d, %d above capacity %d", e.TableSize(), d.TableSize(), capacity)
	}
	return total
}

// TestInteropCorpusRoundTrip encodes every .qif at capacities 0, 256, 512
// and 4096 and decodes the result.
func TestInteropCorpusRoundTrip(t *testing.T) {
	root := qifsDir(t)
	for _, name := range []string{"fb-req", "fb-req-hq", "fb-resp", "fb-resp-hq", "netbsd", "netbsd-hq"} {
		sections := readQIF(t, filepath.Join(root, "qifs", name+".qif"))
		for _, capacity := range []uint64{0, 256, 512, 4096} {
			t.Run(fmt.Sprintf("%s/%d", name, capacity), func(t *testing.T) {
				roundTrip(t, sections, capacity, 100, true)
				if strings.HasPrefix(name, "netbsd") {
					// No blocking allowed, and a decoder that never
					// acknowledges.
					roundTrip(t, sections, capacity, 0, true)
					roundTrip(t, sections, capacity, 0, false)
					roundTrip(t, sections, capacity, 100, false)
				}
			})
		}
	}
}

// TestCorpusSizes prints, for each .qif and setting, the bytes our encoder
// writes beside the smallest output of the other implementations (block
// payloads only, without the interop file's 12-byte block headers).
//
// It runs only with -v (its output is its purpose; the round trips it makes
// for every setting are checked in a quicker form by
// TestInteropCorpusRoundTrip).
func TestCorpusSizes(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints a size table; run with -v")
	}
	root := qifsDir(t)
	encoded := filepath.Join(root, "encoded", "qpack-05")
	impls, err := os.ReadDir(encoded)
	if err != nil {
		t.Fatal(err)
	}
	type best struct {
		size int
		impl string
	}
	smallest := map[string]best{}
	for _, impl := range impls {
		if !impl.IsDir() || impl.Name() == "examples" {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(encoded, impl.Name()))
		for _, ent := range entries {
			blocks := readInterop(t, filepath.Join(encoded, impl.Name(), ent.Name()))
			size := 0
			for _, b := range blocks {
				size += len(b.data)
			}
			if b, ok := smallest[ent.Name()]; !ok || size < b.size {
				smallest[ent.Name()] = best{size, impl.Name()}
			}
		}
	}
	names := make([]string, 0, len(smallest))
	for n := range smallest {
		names = append(names, n)
	}
	slices.Sort(names)
	var out bytes.Buffer
	fmt.Fprintf(&out, "%-28s %8s %8s %s\n", "file.out.capacity.blocked.ack", "skiff", "best", "(impl)")
	var ours, theirs int
	for _, n := range names {
		in, ok := parseInteropName(n)
		if !ok {
			continue
		}
		sections := readQIF(t, filepath.Join(root, "qifs", in.qif+".qif"))
		size := roundTrip(t, sections, in.capacity, in.blocked, in.ack)
		b := smallest[n]
		ours += size
		theirs += b.size
		fmt.Fprintf(&out, "%-28s %8d %8d %s\n", n, size, b.size, b.impl)
	}
	fmt.Fprintf(&out, "%-28s %8d %8d\n", "total", ours, theirs)
	t.Log("\n" + out.String())
}
