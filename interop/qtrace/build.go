package qtrace

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/interop/relay"
	"github.com/skiffnet/skiff/tls13"
)

// Builder makes synthetic captures, with the key log that opens them, for
// tests of the analysis and of the runner's checks: deliberately broken
// traces (packet numbers restarted after a Retry, ACKs without ECN counts,
// a server over its amplification limit, …) that the endpoints under test
// would not produce on demand. Packets are protected as an endpoint would
// protect them, so the whole decryption path runs.
type Builder struct {
	Capture []relay.Datagram
	KeyLog  KeyLog
	// Now is the time of the next datagram; Send advances it by Step.
	Now, Step time.Duration
	// Client is the client's address; Path its address as the server
	// sees it.
	Client, Path netip.AddrPort
	seq          int
	index        [2]int
}

// NewBuilder returns a Builder with a 1 ms step.
func NewBuilder() *Builder {
	return &Builder{
		KeyLog: KeyLog{},
		Step:   time.Millisecond,
		Client: netip.MustParseAddrPort("198.18.0.2:40000"),
		Path:   netip.MustParseAddrPort("198.18.1.1:40000"),
	}
}

// Send puts packets into one datagram in direction dir with an ECN mark.
func (b *Builder) Send(dir relay.Dir, ecn uint8, packets ...[]byte) {
	var payload []byte
	for _, p := range packets {
		payload = append(payload, p...)
	}
	b.index[dir]++
	b.Capture = append(b.Capture, relay.Datagram{
		Dir: dir, Index: b.index[dir], Arrived: b.Now,
		Fate:   relay.Fate{CorruptAt: -1, Deliver: b.Now},
		Client: b.Client, Path: b.Path, ECN: ecn, Payload: payload,
	})
	b.Now += b.Step
}

// derive makes deterministic test bytes.
func (b *Builder) derive(n int) []byte {
	b.seq++
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(b.seq)))
	return h[:n]
}

// ConnBuilder builds the packets of one connection.
type ConnBuilder struct {
	b                    *Builder
	ODCID                []byte
	ClientCID, ServerCID []byte
	Version              uint32
	Suite                uint16
	initialDCID          []byte
	random               []byte
	secrets              map[string][]byte
	pn                   [3][2]uint64
	cryptoOff            [3][2]uint64
	// Gen is the 1-RTT key generation each direction sends with.
	Gen [2]int
}

// Conn starts a connection: version 1, TLS_AES_128_GCM_SHA256, 8-byte
// connection IDs, its secrets in b.KeyLog.
func (b *Builder) Conn() *ConnBuilder {
	c := &ConnBuilder{
		b: b, ODCID: b.derive(8), ClientCID: b.derive(8), ServerCID: b.derive(8),
		Version: Version1, Suite: tls13.TLS_AES_128_GCM_SHA256, random: b.derive(32),
		secrets: map[string][]byte{},
	}
	c.initialDCID = c.ODCID
	for _, l := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "CLIENT_EARLY_TRAFFIC_SECRET"} {
		c.secrets[l] = b.derive(32)
	}
	b.KeyLog[hex.EncodeToString(c.random)] = c.secrets
	return c
}

// ResetCrypto makes the next CRYPTO frame of a level and direction start
// at offset 0 again, as a client's ClientHello after a Retry does.
func (c *ConnBuilder) ResetCrypto(level int, dir relay.Dir) { c.cryptoOff[level][dir] = 0 }

// SetPN sets the next packet number of a space (0 Initial, 1 Handshake,
// 2 application) in a direction.
func (c *ConnBuilder) SetPN(space int, dir relay.Dir, pn uint64) { c.pn[space][dir] = pn }

func (c *ConnBuilder) longHeader(dir relay.Dir, typeBits byte, token []byte, payloadLen int) ([]byte, int) {
	dcid, scid := c.initialDCID, c.ClientCID
	if dir == relay.ToClient {
		dcid, scid = c.ClientCID, c.ServerCID
	} else if typeBits == 2 { // Handshake
		dcid = c.ServerCID
	}
	if c.Version == Version2 {
		typeBits = (typeBits + 1) & 3
	}
	h := []byte{0xc3 | typeBits<<4}
	h = binary.BigEndian.AppendUint32(h, c.Version)
	h = append(h, byte(len(dcid)))
	h = append(h, dcid...)
	h = append(h, byte(len(scid)))
	h = append(h, scid...)
	if typeBits == longTypeBits(c.Version, Initial) {
		h = appendVarint(h, uint64(len(token)))
		h = append(h, token...)
	}
	h = appendVarint(h, uint64(4+payloadLen+16))
	return h, len(h)
}

func longTypeBits(version uint32, t PacketType) byte {
	for bits := range byte(4) {
		if longType(version, bits) == t {
			return bits
		}
	}
	return 0
}

func (c *ConnBuilder) protect(k *keys, space int, dir relay.Dir, hdr []byte, pnOffset int, frames []byte) []byte {
	pn := c.pn[space][dir]
	c.pn[space][dir]++
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(pn))
	return k.seal(hdr, pnOffset, pn, frames)
}

// Initial is an Initial packet; a client's carries token.
func (c *ConnBuilder) Initial(dir relay.Dir, token []byte, frames ...[]byte) []byte {
	payload := join(frames)
	hdr, off := c.longHeader(dir, 0, token, len(payload))
	client, server := initialKeys(c.Version, c.initialDCID)
	if dir == relay.ToClient {
		client = server
	}
	return c.protect(client, 0, dir, hdr, off, payload)
}

// Handshake is a Handshake packet.
func (c *ConnBuilder) Handshake(dir relay.Dir, frames ...[]byte) []byte {
	payload := join(frames)
	hdr, off := c.longHeader(dir, 2, nil, len(payload))
	label := "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	if dir == relay.ToClient {
		label = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	}
	k, _ := newKeys(c.Suite, c.Version, c.secrets[label])
	return c.protect(k, 1, dir, hdr, off, payload)
}

// ZeroRTT is a client's 0-RTT packet.
func (c *ConnBuilder) ZeroRTT(frames ...[]byte) []byte {
	payload := join(frames)
	hdr, off := c.longHeader(relay.ToServer, 1, nil, len(payload))
	k, _ := newKeys(c.Suite, c.Version, c.secrets["CLIENT_EARLY_TRAFFIC_SECRET"])
	return c.protect(k, 2, relay.ToServer, hdr, off, payload)
}

// OneRTT is a 1-RTT packet with the direction's key generation Gen.
func (c *ConnBuilder) OneRTT(dir relay.Dir, frames ...[]byte) []byte {
	dcid, label := c.ServerCID, "CLIENT_TRAFFIC_SECRET_0"
	if dir == relay.ToClient {
		dcid, label = c.ClientCID, "SERVER_TRAFFIC_SECRET_0"
	}
	k, _ := newKeys(c.Suite, c.Version, c.secrets[label])
	for range c.Gen[dir] {
		k, _ = k.next()
	}
	hdr := append([]byte{0x43 | byte(c.Gen[dir]&1)<<2}, dcid...)
	return c.protect(k, 2, dir, hdr, len(hdr), join(frames))
}

// Retry is a server's Retry with token (the integrity tag is not
// computed: the analysis does not check it); later packets use its new
// connection ID.
func (c *ConnBuilder) Retry(token []byte) []byte {
	c.ServerCID = c.b.derive(8)
	p := []byte{0xc0 | longTypeBits(c.Version, Retry)<<4}
	p = binary.BigEndian.AppendUint32(p, c.Version)
	p = append(p, byte(len(c.ClientCID)))
	p = append(p, c.ClientCID...)
	p = append(p, byte(len(c.ServerCID)))
	p = append(p, c.ServerCID...)
	p = append(p, token...)
	p = append(p, make([]byte, 16)...)
	c.initialDCID = c.ServerCID
	return p
}

// Crypto is a CRYPTO frame with a handshake message at a level (0
// Initial, 1 Handshake, 2 application) of a direction.
func (c *ConnBuilder) Crypto(level int, dir relay.Dir, msgType uint8, body []byte) []byte {
	msg := []byte{msgType, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	f := appendVarint([]byte{frameCrypto}, c.cryptoOff[level][dir])
	f = appendVarint(f, uint64(len(msg)))
	c.cryptoOff[level][dir] += uint64(len(msg))
	return append(f, msg...)
}

// HelloOptions shape a synthetic ClientHello.
type HelloOptions struct {
	Suites         []uint16
	PSK, EarlyData bool
	OtherVersions  []uint32
}

// ClientHello is the CRYPTO frame of a ClientHello with the
// connection's random.
func (c *ConnBuilder) ClientHello(o HelloOptions) []byte {
	if len(o.Suites) == 0 {
		o.Suites = []uint16{c.Suite}
	}
	body := append([]byte{3, 3}, c.random...)
	body = append(body, 0) // legacy_session_id
	body = binary.BigEndian.AppendUint16(body, uint16(2*len(o.Suites)))
	for _, s := range o.Suites {
		body = binary.BigEndian.AppendUint16(body, s)
	}
	body = append(body, 1, 0) // legacy_compression_methods
	var ext []byte
	if o.OtherVersions != nil {
		vi := binary.BigEndian.AppendUint32(nil, c.Version)
		for _, v := range o.OtherVersions {
			vi = binary.BigEndian.AppendUint32(vi, v)
		}
		tp := appendVarint(appendVarint(nil, tpVersionInformation), uint64(len(vi)))
		ext = appendExtension(ext, extQUICTransportParams, append(tp, vi...))
	}
	if o.EarlyData {
		ext = appendExtension(ext, extEarlyData, nil)
	}
	if o.PSK { // pre_shared_key comes last (RFC 8446 §4.2.11)
		ext = appendExtension(ext, extPreSharedKey, []byte{0, 0, 0, 0})
	}
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	return c.Crypto(0, relay.ToServer, msgClientHello, append(body, ext...))
}

// ServerHello is the CRYPTO frame of a ServerHello choosing the
// connection's suite, accepting a PSK when psk is set.
func (c *ConnBuilder) ServerHello(psk bool) []byte {
	body := append([]byte{3, 3}, c.b.derive(32)...)
	body = append(body, 0)
	body = binary.BigEndian.AppendUint16(body, c.Suite)
	body = append(body, 0)
	var ext []byte
	if psk {
		ext = appendExtension(ext, extPreSharedKey, []byte{0, 0})
	}
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	return c.Crypto(0, relay.ToClient, msgServerHello, append(body, ext...))
}

// ServerFlight is the CRYPTO frames of the server's Handshake flight:
// EncryptedExtensions with transport parameters params, a Certificate of
// certSize bytes unless certSize is 0 (a resumed handshake), and Finished.
func (c *ConnBuilder) ServerFlight(params map[uint64][]byte, certSize int) []byte {
	var tp []byte
	for id, v := range params {
		tp = appendVarint(appendVarint(tp, id), uint64(len(v)))
		tp = append(tp, v...)
	}
	ee := appendExtension(nil, extQUICTransportParams, tp)
	ee = append(binary.BigEndian.AppendUint16(nil, uint16(len(ee))), ee...)
	out := c.Crypto(1, relay.ToClient, msgEncryptedExtensions, ee)
	if certSize > 0 {
		out = append(out, c.Crypto(1, relay.ToClient, msgCertificate, make([]byte, certSize))...)
	}
	return append(out, c.Crypto(1, relay.ToClient, 20, make([]byte, 32))...)
}

func appendExtension(b []byte, typ int, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(typ))
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func join(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}

// Padding is n PADDING frames.
func Padding(n int) []byte { return make([]byte, n) }

// Ping is a PING frame.
func Ping() []byte { return []byte{framePing} }

// Ack is an ACK frame for packets 0 to largest, an ACK_ECN frame with ecn
// when it is not nil.
func Ack(largest uint64, ecn *ECNCounts) []byte {
	typ := byte(frameACK)
	if ecn != nil {
		typ = frameACKECN
	}
	b := appendVarint([]byte{typ}, largest)
	b = append(b, 0, 0) // delay, no further ranges
	b = appendVarint(b, largest)
	if ecn != nil {
		b = appendVarint(appendVarint(appendVarint(b, ecn.ECT0), ecn.ECT1), ecn.CE)
	}
	return b
}

// Stream is a STREAM frame of n bytes on a stream, with its length.
func Stream(id uint64, n int) []byte {
	b := appendVarint([]byte{frameStream | 0x02}, id)
	b = appendVarint(b, uint64(n))
	return append(b, make([]byte, n)...)
}

// PathChallenge is a PATH_CHALLENGE frame, PathResponse a PATH_RESPONSE.
func PathChallenge(data [8]byte) []byte { return append([]byte{framePathChallenge}, data[:]...) }

// PathResponse is a PATH_RESPONSE frame.
func PathResponse(data [8]byte) []byte { return append([]byte{framePathResponse}, data[:]...) }

// HandshakeDone is a HANDSHAKE_DONE frame.
func HandshakeDone() []byte { return []byte{frameHandshakeDone} }
