package qpack

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sharedTestdata finds ../shared/testdata from the repository root, or skips.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	return filepath.Dir(qifsDir(t))
}

// RFC 7541 Appendix C.4 and C.6 Huffman-coded strings.
var huffmanExamples = []struct{ plain, coded string }{
	{"www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"},
	{"no-cache", "a8eb 1064 9cbf"},
	{"custom-key", "25a8 49e9 5ba9 7d7f"},
	{"custom-value", "25a8 49e9 5bb8 e8b4 bf"},
	{"302", "6402"},
	{"307", "640e ff"},
	{"private", "aec3 771a 4b"},
	{"Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"},
	{"https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"},
	{"gzip", "9bd9 ab"},
	{"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"},
	{"", ""},
}

func TestHuffmanExamples(t *testing.T) {
	for _, ex := range huffmanExamples {
		coded := unhex(t, ex.coded)
		if got := appendHuffmanEncoded(nil, ex.plain); !bytes.Equal(got, coded) {
			t.Errorf("encode %q = %x, want %x", ex.plain, got, coded)
		}
		if n := huffmanEncodedLen(ex.plain); n != len(coded) {
			t.Errorf("huffmanEncodedLen(%q) = %d, want %d", ex.plain, n, len(coded))
		}
		got, err := appendHuffmanDecoded(nil, coded)
		if err != nil || string(got) != ex.plain {
			t.Errorf("decode %x = %q, %v; want %q", coded, got, err, ex.plain)
		}
	}
}

func TestHuffmanRoundTripAllSymbols(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		enc := appendHuffmanEncoded(nil, string(b))
		dec, err := appendHuffmanDecoded(nil, enc)
		if err != nil || !bytes.Equal(dec, b) {
			t.Fatalf("round trip of %x: %x, %v", b, dec, err)
		}
	}
}

func isCode(err error, code ErrorCode) bool {
	var qe *Error
	return errors.As(err, &qe) && qe.Code == code
}

// TestHuffmanInvalid checks RFC 7541 §5.2: EOS in the data, padding longer
// than 7 bits, and padding that is not all ones are errors.
func TestHuffmanInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, coded, reason string
	}{
		{"EOS alone", "ffff ffff", reasonHuffmanEOS},                  // 30 ones of EOS + 2 bits
		{"EOS after a symbol", "1fff ffff ff", reasonHuffmanEOS},      // 'a' (00011) then EOS
		{"padding of zeros", "18", reasonHuffmanPadding},              // 'a' + 000
		{"padding of 8+ ones", "1f ff", reasonHuffmanPadding},         // 'a' + 11 ones
		{"a whole byte of padding", "ff", reasonHuffmanPadding},       // 8 ones, no symbol
		{"padding mixing ones and zeros", "1d", reasonHuffmanPadding}, // 'a' + 101
	} {
		_, err := appendHuffmanDecoded(nil, unhex(t, tc.coded))
		var qe *Error
		if !errors.As(err, &qe) || qe.Code != ErrCodeDecompressionFailed || qe.Reason != tc.reason {
			t.Errorf("%s (%s): err = %v, want %s", tc.name, tc.coded, err, tc.reason)
		}
	}
}

// TestHuffmanTableMatchesRFC compares the code table with RFC 7541
// Appendix B as stored in the shared test data.
func TestHuffmanTableMatchesRFC(t *testing.T) {
	f, err := os.Open(filepath.Join(sharedTestdata(t), "vectors", "rfc7541-huffman.txt"))
	if err != nil {
		t.Skip("rfc7541-huffman.txt not found:", err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\s+(?:'.' |EOS )?\(\s*(\d+)\)\s+\|[01|]+\s+([0-9a-f]+)\s+\[\s*(\d+)\]`)
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		sym, _ := strconv.Atoi(m[1])
		code, _ := strconv.ParseUint(m[2], 16, 32)
		n, _ := strconv.Atoi(m[3])
		if huffmanCodes[sym] != uint32(code) || int(huffmanCodeLens[sym]) != n {
			t.Errorf("symbol %d: have %x/%d, RFC %x/%d", sym, huffmanCodes[sym], huffmanCodeLens[sym], code, n)
		}
		seen++
	}
	if seen != 257 {
		t.Fatalf("parsed %d rows, want 257", seen)
	}
}

// TestStaticTableMatchesRFC compares the static table with RFC 9204
// Appendix A as stored in the shared test data (whose rows may wrap).
func TestStaticTableMatchesRFC(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedTestdata(t), "vectors", "rfc9204-appendixAB.txt"))
	if err != nil {
		t.Skip("rfc9204-appendixAB.txt not found:", err)
	}
	text := string(b)
	text = text[strings.Index(text, "| 0     |"):strings.Index(text, "Table 4")]
	var rows [][3]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		p := strings.Split(strings.Trim(line, "|"), "|")
		for i := range p {
			p[i] = strings.TrimSpace(p[i])
		}
		if p[0] != "" {
			rows = append(rows, [3]string{p[0], p[1], p[2]})
			continue
		}
		// A wrapped row: the RFC breaks after '-' or '/', else at a space.
		last := &rows[len(rows)-1]
		last[1] += p[1]
		if strings.HasSuffix(last[2], "-") || strings.HasSuffix(last[2], "/") {
			last[2] += p[2]
		} else {
			last[2] += " " + p[2]
		}
	}
	if len(rows) != len(staticTable) {
		t.Fatalf("parsed %d rows, want %d", len(rows), len(staticTable))
	}
	for i, r := range rows {
		if r[0] != strconv.Itoa(i) || r[1] != staticTable[i].name || r[2] != staticTable[i].value {
			t.Errorf("row %v, table has %d %q %q", r, i, staticTable[i].name, staticTable[i].value)
		}
	}
}

// TestHuffmanEverySymbol decodes each symbol's code alone, padded, and
// pairs of symbols, where many bytes complete two symbols at once.
func TestHuffmanEverySymbol(t *testing.T) {
	// Every symbol alone, padded, decodes to itself.
	for sym := 0; sym < 256; sym++ {
		enc := appendHuffmanEncoded(nil, string([]byte{byte(sym)}))
		if dec, err := appendHuffmanDecoded(nil, enc); err != nil || len(dec) != 1 || dec[0] != byte(sym) {
			t.Errorf("symbol %d: %x decodes to %x, %v", sym, enc, dec, err)
		}
	}
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b += 7 {
			in := string([]byte{byte(a), byte(b)})
			enc := appendHuffmanEncoded(nil, in)
			if dec, err := appendHuffmanDecoded(nil, enc); err != nil || string(dec) != in {
				t.Fatalf("%x: %x decodes to %x, %v", in, enc, dec, err)
			}
		}
	}
}
