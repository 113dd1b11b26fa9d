package protect

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/internal/hkdf"
)

// appendixA holds the values of RFC 9001 Appendix A or RFC 9369 Appendix A,
// read from testdata (see the origin note at the top of each file).
type appendixA map[string]string

func loadAppendixA(t testing.TB, file string) appendixA {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := appendixA{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("%s: bad line %q", file, line)
		}
		v[name] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v appendixA) hex(t testing.TB, name string) []byte {
	t.Helper()
	s, ok := v[name]
	if !ok {
		t.Fatalf("no value %q in test vectors", name)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// vectorSets pairs each QUIC version with its appendix.
var vectorSets = []struct {
	name    string
	version uint32
	file    string
}{
	{"v1", Version1, "rfc9001-appendixA.txt"},
	{"v2", Version2, "rfc9369-appendixA.txt"},
}

// The client's Destination Connection ID used throughout both appendices.
var appendixDCID = []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}

func checkBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

// hkdfLabel is the HkdfLabel that keyMaterial.derive expands, with an empty
// context.
func hkdfLabel(label string, length int) []byte {
	return hkdf.AppendLabel(nil, length, label, nil)
}

// TestHKDFLabel checks the HkdfLabel encoding against the structures listed
// in RFC 9001 A.1 and RFC 9369 A.1.
func TestHKDFLabel(t *testing.T) {
	for _, vs := range vectorSets {
		t.Run(vs.name, func(t *testing.T) {
			v := loadAppendixA(t, vs.file)
			p, _ := paramsFor(vs.version)
			checkBytes(t, "client in", hkdfLabel("client in", 32), v.hex(t, "hkdflabel_client_in"))
			checkBytes(t, "server in", hkdfLabel("server in", 32), v.hex(t, "hkdflabel_server_in"))
			checkBytes(t, p.labelKey, hkdfLabel(p.labelKey, 16), v.hex(t, "hkdflabel_key"))
			checkBytes(t, p.labelIV, hkdfLabel(p.labelIV, 12), v.hex(t, "hkdflabel_iv"))
			checkBytes(t, p.labelHP, hkdfLabel(p.labelHP, 16), v.hex(t, "hkdflabel_hp"))
		})
	}
}

// TestInitialSecrets reproduces A.1 of both appendices: the initial secret,
// the client and server secrets, and their key, iv and hp.
func TestInitialSecrets(t *testing.T) {
	for _, vs := range vectorSets {
		t.Run(vs.name, func(t *testing.T) {
			v := loadAppendixA(t, vs.file)
			initial, client, server, err := initialSecrets(vs.version, appendixDCID)
			if err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "initial_secret", initial, v.hex(t, "initial_secret"))
			checkBytes(t, "client_initial_secret", client, v.hex(t, "client_initial_secret"))
			checkBytes(t, "server_initial_secret", server, v.hex(t, "server_initial_secret"))

			p, _ := paramsFor(vs.version)
			for _, side := range []struct {
				name   string
				secret []byte
			}{{"client", client}, {"server", server}} {
				m := deriveKeyMaterial(p, TLS_AES_128_GCM_SHA256, side.secret, true)
				checkBytes(t, side.name+" key", m.key, v.hex(t, side.name+"_key"))
				checkBytes(t, side.name+" iv", m.iv, v.hex(t, side.name+"_iv"))
				checkBytes(t, side.name+" hp", m.hp, v.hex(t, side.name+"_hp"))
			}

			// The Keys that InitialKeys returns carry that material: the
			// nonce of packet number 0 is the IV itself.
			ck, sk, err := InitialKeys(vs.version, appendixDCID)
			if err != nil {
				t.Fatal(err)
			}
			ck.setNonce(0)
			sk.setNonce(0)
			checkBytes(t, "client nonce(0)", ck.nonce[:], v.hex(t, "client_iv"))
			checkBytes(t, "server nonce(0)", sk.nonce[:], v.hex(t, "server_iv"))
			if ck.Suite() != TLS_AES_128_GCM_SHA256 {
				t.Errorf("Initial suite = %v", ck.Suite())
			}
		})
	}
}

// TestInitialPackets reproduces A.2 and A.3: the client and server Initial
// packets, protected byte for byte and then unprotected back.
func TestInitialPackets(t *testing.T) {
	for _, vs := range vectorSets {
		v := loadAppendixA(t, vs.file)
		client, server, err := InitialKeys(vs.version, appendixDCID)
		if err != nil {
			t.Fatal(err)
		}
		// A.2: the CRYPTO frame padded with PADDING to 1162 bytes.
		clientPayload := make([]byte, 1162)
		copy(clientPayload, v.hex(t, "client_initial_frames"))
		for _, tc := range []struct {
			side    string
			keys    *Keys
			header  []byte
			payload []byte
			pn      uint64
		}{
			{"client", client, v.hex(t, "client_initial_header"), clientPayload, 2},
			{"server", server, v.hex(t, "server_initial_header"), v.hex(t, "server_initial_payload"), 1},
		} {
			t.Run(vs.name+"/"+tc.side, func(t *testing.T) {
				prefix := tc.side + "_initial_"
				want := v.hex(t, prefix+"protected")
				// Both headers put the Packet Number field at byte 18:
				// first byte, version, DCID length and DCID, SCID length
				// and SCID, an empty token's length, a 2-byte Length.
				const pnOffset = 18

				buf := make([]byte, 0, len(want))
				buf = append(buf, tc.header...)
				buf = append(buf, tc.payload...)
				sealed, err := tc.keys.SealPacket(buf, pnOffset, tc.pn)
				if err != nil {
					t.Fatal(err)
				}
				checkBytes(t, "sample", sealed[pnOffset+4:pnOffset+4+SampleLen], v.hex(t, prefix+"sample"))
				checkBytes(t, "mask", tc.keys.hp.mask[:5], v.hex(t, prefix+"mask"))
				checkBytes(t, "protected packet", sealed, want)

				pkt := bytes.Clone(want)
				payload, pn, err := tc.keys.OpenPacket(pkt, pnOffset, int64(tc.pn)-1)
				if err != nil {
					t.Fatal(err)
				}
				if pn != tc.pn {
					t.Errorf("packet number = %d, want %d", pn, tc.pn)
				}
				checkBytes(t, "unprotected header", pkt[:len(tc.header)], tc.header)
				checkBytes(t, "payload", payload, tc.payload)
				if &payload[0] != &pkt[len(tc.header)] {
					t.Error("payload is not decrypted in place")
				}
			})
		}
	}
}

// TestRetryVectors reproduces A.4: the Retry Integrity Tag of the sample
// Retry packet, computed and verified.
func TestRetryVectors(t *testing.T) {
	for _, vs := range vectorSets {
		t.Run(vs.name, func(t *testing.T) {
			v := loadAppendixA(t, vs.file)
			retry := v.hex(t, "retry_packet")
			n := len(retry) - TagLen
			tag, err := RetryIntegrityTag(vs.version, appendixDCID, retry[:n])
			if err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "tag", tag[:], retry[n:])
			if err := VerifyRetryIntegrity(vs.version, appendixDCID, retry); err != nil {
				t.Errorf("VerifyRetryIntegrity: %v", err)
			}
			// The tag covers the original DCID, which is not in the packet.
			otherDCID := bytes.Clone(appendixDCID)
			otherDCID[7] ^= 1
			if err := VerifyRetryIntegrity(vs.version, otherDCID, retry); err != ErrAuthentication {
				t.Errorf("Retry with another original DCID: err = %v, want ErrAuthentication", err)
			}
			// Each version's tag fails under the other version's key.
			other := Version2
			if vs.version == Version2 {
				other = Version1
			}
			if err := VerifyRetryIntegrity(other, appendixDCID, retry); err != ErrAuthentication {
				t.Errorf("Retry verified with the other version: err = %v", err)
			}
		})
	}
}

// TestChaCha20ShortHeader reproduces A.5: keys from a ChaCha20-Poly1305
// application secret, the key update secret, and a protected 1-RTT packet.
func TestChaCha20ShortHeader(t *testing.T) {
	for _, vs := range vectorSets {
		t.Run(vs.name, func(t *testing.T) {
			v := loadAppendixA(t, vs.file)
			secret := v.hex(t, "chacha_secret")
			p, _ := paramsFor(vs.version)
			m := deriveKeyMaterial(p, TLS_CHACHA20_POLY1305_SHA256, secret, true)
			checkBytes(t, "key", m.key, v.hex(t, "chacha_key"))
			checkBytes(t, "iv", m.iv, v.hex(t, "chacha_iv"))
			checkBytes(t, "hp", m.hp, v.hex(t, "chacha_hp"))

			k, err := NewKeys(vs.version, TLS_CHACHA20_POLY1305_SHA256, secret)
			if err != nil {
				t.Fatal(err)
			}
			next, err := k.NextGeneration()
			if err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "ku", next.secret[:next.secretLen], v.hex(t, "chacha_ku"))

			pn, err := strconv.ParseUint(v["chacha_pn"], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			k.setNonce(pn)
			checkBytes(t, "nonce", k.nonce[:], v.hex(t, "chacha_nonce"))

			header := v.hex(t, "chacha_unprotected_header")
			plaintext := v.hex(t, "chacha_payload_plaintext")
			want := v.hex(t, "chacha_packet")
			buf := make([]byte, 0, len(want))
			buf = append(buf, header...)
			buf = append(buf, plaintext...)
			// An empty DCID puts the packet number right after the
			// first byte.
			const pnOffset = 1
			sealed, err := k.SealPacket(buf, pnOffset, pn)
			if err != nil {
				t.Fatal(err)
			}
			checkBytes(t, "ciphertext", sealed[len(header):], v.hex(t, "chacha_payload_ciphertext"))
			checkBytes(t, "sample", sealed[pnOffset+4:], v.hex(t, "chacha_sample"))
			checkBytes(t, "mask", k.hp.mask[:5], v.hex(t, "chacha_mask"))
			checkBytes(t, "protected header", sealed[:len(header)], v.hex(t, "chacha_header"))
			checkBytes(t, "packet", sealed, want)

			// The receiver decodes 654360564 from the 3-byte 49140,
			// knowing the packets just before it.
			pkt := bytes.Clone(want)
			payload, gotPN, err := k.OpenPacket(pkt, pnOffset, int64(pn)-10)
			if err != nil {
				t.Fatal(err)
			}
			if gotPN != pn {
				t.Errorf("packet number = %d, want %d", gotPN, pn)
			}
			checkBytes(t, "header", pkt[:len(header)], header)
			checkBytes(t, "payload", payload, plaintext)
		})
	}
}
