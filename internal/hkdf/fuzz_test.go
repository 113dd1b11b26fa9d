package hkdf

import (
	"bytes"
	stdhkdf "crypto/hkdf"
	"crypto/hmac"
	"testing"
)

// FuzzAgainstStdlib compares MAC, AppendMAC, Extract, ExpandLabel and
// AppendExpandLabel with crypto/hmac and crypto/hkdf for keys of any
// length (shorter than, as long as and longer than the hash block, whose
// pads are XORed a word at a time), labels and contexts of any length the
// HkdfLabel allows, and outputs of one to many hash blocks. The HkdfLabel
// is built here from RFC 8446 §7.1, not with AppendLabel. Each call takes
// its state from the pool the previous one, with another key, gave back.
func FuzzAgainstStdlib(f *testing.F) {
	for _, n := range []int{0, 1, 7, 8, 9, 32, 48, 63, 64, 65, 127, 128, 129, 200} {
		key := bytes.Repeat([]byte{byte(n)}, n)
		f.Add(uint8(n), key, []byte("message"), "quic key", []byte{}, uint16(16))
		f.Add(uint8(n+1), key, bytes.Repeat([]byte{0xa5}, 3*n), "c hs traffic", bytes.Repeat([]byte{1}, 32), uint16(n*3))
	}
	f.Add(uint8(0), []byte("k"), []byte{}, string(bytes.Repeat([]byte{'l'}, 249)), bytes.Repeat([]byte{2}, 255), uint16(500))
	f.Fuzz(func(t *testing.T, sel uint8, key, msg []byte, label string, context []byte, length uint16) {
		hh := hashes()[sel&1]
		if len(key) > 300 || len(msg) > 1000 || len(label) > 255-len("tls13 ") || len(context) > 255 {
			return
		}
		std := hmac.New(hh.std, key)
		std.Write(msg)
		want := std.Sum(nil)
		if got := hh.h.MAC(key, msg); !bytes.Equal(got, want) {
			t.Fatalf("%s MAC, %d-byte key: %x, want %x", hh.name, len(key), got, want)
		}
		if got := hh.h.Extract(key, msg); !bytes.Equal(got, want) {
			t.Fatalf("%s Extract, %d-byte salt: %x, want %x", hh.name, len(key), got, want)
		}
		if len(key) <= MaxAppendSecret && len(msg) <= MaxAppendMAC {
			if got := hh.h.AppendMAC([]byte("dst"), key, msg); string(got[:3]) != "dst" || !bytes.Equal(got[3:], want) {
				t.Fatalf("%s AppendMAC, %d-byte key: %x, want dst and %x", hh.name, len(key), got, want)
			}
		}

		n := 1 + int(length)%600
		info := []byte{byte(n >> 8), byte(n), byte(len("tls13 ") + len(label))}
		info = append(info, "tls13 "+label...)
		info = append(info, byte(len(context)))
		info = append(info, context...)
		wantOut, err := stdhkdf.Expand(hh.std, key, string(info), n)
		if err != nil {
			t.Fatal(err)
		}
		if got := hh.h.ExpandLabel(key, label, context, n); !bytes.Equal(got, wantOut) {
			t.Fatalf("%s ExpandLabel, %d-byte secret, length %d: %x, want %x", hh.name, len(key), n, got, wantOut)
		}
		if len(key) <= MaxAppendSecret {
			if got := hh.h.AppendExpandLabel([]byte("dst"), key, label, context, n); string(got[:3]) != "dst" || !bytes.Equal(got[3:], wantOut) {
				t.Fatalf("%s AppendExpandLabel, %d-byte secret, length %d: %x, want dst and %x", hh.name, len(key), n, got, wantOut)
			}
		}
	})
}
