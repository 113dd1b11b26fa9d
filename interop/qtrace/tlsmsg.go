package qtrace

import (
	"encoding/binary"
	"errors"
	"sort"
)

// TLS handshake message types (RFC 8446 §4).
const (
	msgClientHello         = 1
	msgServerHello         = 2
	msgNewSessionTicket    = 4
	msgEncryptedExtensions = 8
	msgCertificate         = 11
)

// TLS extensions (RFC 8446 §4.2, RFC 9001 §8.2).
const (
	extPreSharedKey        = 41
	extEarlyData           = 42
	extQUICTransportParams = 57
)

// Transport parameters (RFC 9000 §18.2, RFC 9368 §3).
const (
	tpInitialMaxStreamsBidi = 0x08
	tpPreferredAddress      = 0x0d
	tpVersionInformation    = 0x11
)

// maxCryptoStream bounds the CRYPTO data kept per level and direction.
const maxCryptoStream = 1 << 20

// cryptoStream reassembles one direction's CRYPTO data at one encryption
// level and splits it into handshake messages.
type cryptoStream struct {
	data    []byte
	pending []CryptoFrame
	parsed  int
}

type handshakeMsg struct {
	typ  uint8
	body []byte
}

// add takes a CRYPTO frame and returns the handshake messages it
// completes.
func (s *cryptoStream) add(f CryptoFrame) []handshakeMsg {
	if f.Offset+uint64(len(f.Data)) > maxCryptoStream {
		return nil
	}
	s.pending = append(s.pending, CryptoFrame{f.Offset, append([]byte(nil), f.Data...)})
	sort.Slice(s.pending, func(i, j int) bool { return s.pending[i].Offset < s.pending[j].Offset })
	keep := s.pending[:0]
	for _, p := range s.pending {
		end := p.Offset + uint64(len(p.Data))
		switch {
		case end <= uint64(len(s.data)): // already have it
		case p.Offset <= uint64(len(s.data)):
			s.data = append(s.data, p.Data[uint64(len(s.data))-p.Offset:]...)
		default:
			keep = append(keep, p)
		}
	}
	s.pending = keep
	var msgs []handshakeMsg
	for len(s.data)-s.parsed >= 4 {
		b := s.data[s.parsed:]
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if len(b) < 4+n {
			break
		}
		msgs = append(msgs, handshakeMsg{typ: b[0], body: b[4 : 4+n]})
		s.parsed += 4 + n
	}
	return msgs
}

// ClientHello is what the checks need of a ClientHello.
type ClientHello struct {
	Random       []byte
	CipherSuites []uint16
	// PSK: the client offered a ticket; EarlyData: it sends 0-RTT.
	PSK, EarlyData bool
	// OtherVersions are the versions the client's version_information
	// transport parameter lists (RFC 9368 §3).
	OtherVersions []uint32
}

// ServerHello is what the checks need of a ServerHello.
type ServerHello struct {
	CipherSuite uint16
	// PSK: the server accepted the client's ticket.
	PSK bool
}

var errTLS = errors.New("qtrace: malformed TLS message")

// reader reads TLS's length-prefixed vectors.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errTLS
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) uint(n int) int {
	v := 0
	for _, c := range r.bytes(n) {
		v = v<<8 | int(c)
	}
	return v
}

// vector reads a vector with an n-byte length prefix.
func (r *reader) vector(n int) []byte { return r.bytes(r.uint(n)) }

// extensions calls fn for each extension of a block.
func (r *reader) extensions(fn func(typ int, data []byte)) {
	block := reader{b: r.vector(2)}
	for r.err == nil && block.err == nil && len(block.b) > 0 {
		typ := block.uint(2)
		data := block.vector(2)
		if block.err == nil {
			fn(typ, data)
		}
	}
	if r.err == nil {
		r.err = block.err
	}
}

func parseClientHello(body []byte) (*ClientHello, error) {
	r := &reader{b: body}
	ch := &ClientHello{}
	r.bytes(2) // legacy_version
	ch.Random = r.bytes(32)
	r.vector(1) // legacy_session_id
	suites := reader{b: r.vector(2)}
	for len(suites.b) >= 2 {
		ch.CipherSuites = append(ch.CipherSuites, uint16(suites.uint(2)))
	}
	r.vector(1) // legacy_compression_methods
	r.extensions(func(typ int, data []byte) {
		switch typ {
		case extPreSharedKey:
			ch.PSK = true
		case extEarlyData:
			ch.EarlyData = true
		case extQUICTransportParams:
			if v, ok := transportParams(data)[tpVersionInformation]; ok && len(v) >= 4 {
				for v = v[4:]; len(v) >= 4; v = v[4:] {
					ch.OtherVersions = append(ch.OtherVersions, binary.BigEndian.Uint32(v))
				}
			}
		}
	})
	return ch, r.err
}

func parseServerHello(body []byte) (*ServerHello, error) {
	r := &reader{b: body}
	sh := &ServerHello{}
	r.bytes(2 + 32) // legacy_version, random
	r.vector(1)     // legacy_session_id_echo
	sh.CipherSuite = uint16(r.uint(2))
	r.bytes(1) // legacy_compression_method
	r.extensions(func(typ int, _ []byte) {
		if typ == extPreSharedKey {
			sh.PSK = true
		}
	})
	return sh, r.err
}

// serverTransportParams returns the transport parameters of an
// EncryptedExtensions message.
func serverTransportParams(body []byte) (map[uint64][]byte, error) {
	r := &reader{b: body}
	var params map[uint64][]byte
	r.extensions(func(typ int, data []byte) {
		if typ == extQUICTransportParams {
			params = transportParams(data)
		}
	})
	return params, r.err
}

// transportParams splits transport parameters (RFC 9000 §18); a
// malformed tail is ignored.
func transportParams(b []byte) map[uint64][]byte {
	params := map[uint64][]byte{}
	p := 0
	for p < len(b) {
		id, q, err := readVarint(b, p)
		if err != nil {
			break
		}
		n, q, err := readVarint(b, q)
		if err != nil || uint64(len(b)-q) < n {
			break
		}
		params[id] = b[q : q+int(n)]
		p = q + int(n)
	}
	return params
}

// preferredAddressCID returns the connection ID of a preferred_address
// transport parameter (RFC 9000 §18.2, Figure 22: IPv4 address and port,
// IPv6 address and port, then the connection ID with its length), nil
// when there is none.
func preferredAddressCID(v []byte) []byte {
	const addrs = 4 + 2 + 16 + 2
	if len(v) < addrs+1 {
		return nil
	}
	n := int(v[addrs])
	if n == 0 || len(v) < addrs+1+n+16 {
		return nil
	}
	return v[addrs+1 : addrs+1+n]
}
