package qtrace

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"

	"github.com/skiffnet/skiff/interop/relay"
)

// Packet is one QUIC packet of a trace.
type Packet struct {
	// Datagram is the index of the datagram in the capture.
	Datagram int
	Dir      relay.Dir
	Type     PacketType
	Version  uint32 // long headers
	DCID     []byte
	SCID     []byte // long headers
	Token    []byte // Initial and Retry
	// Size is the packet's length in the datagram.
	Size int

	// Decrypted is set once the packet was opened; Err says why not.
	Decrypted bool
	Err       error
	PN        uint64
	// KeyPhase is the 1-RTT key generation (0 first); the key phase bit
	// is KeyPhase&1.
	KeyPhase int
	// PayloadLen is the length of the plaintext frames.
	PayloadLen int
	Frames     *Frames
}

// Conn is one QUIC connection reconstructed from a trace.
type Conn struct {
	// ODCID is the Destination Connection ID of the client's first Initial.
	ODCID []byte
	// Client is the client's own address.
	Client netip.AddrPort
	// ServerSCIDs are the Source Connection IDs of the server's Initial
	// packets, in order, without repeats.
	ServerSCIDs [][]byte
	// Retry is the server's Retry packet, if any.
	Retry       *Packet
	ClientHello *ClientHello
	ServerHello *ServerHello
	// ServerParams are the server's transport parameters.
	ServerParams map[uint64][]byte
	// Messages lists the TLS handshake message types each direction sent
	// (indexed by relay.Dir), in order.
	Messages [2][]uint8
	Packets  []*Packet

	initialDCID []byte
	// CIDs each side chose, as the other addresses it.
	cids    [2]map[string]bool // [relay.ToServer]: the server's; [relay.ToClient]: the client's
	largest [3][2]int64        // per packet number space and direction
	crypto  [3][2]cryptoStream
	secrets map[string][]byte
	hsKeys  [2]*keys
	early   *keys
	app     [2][]*keys // key generations per direction
	appCur  [2]int
	// deferred packets wait for keys (a 0-RTT packet for the ServerHello's suite).
	deferred []deferredPacket
}

type deferredPacket struct {
	p        *Packet
	raw      []byte
	pnOffset int
}

// Trace is a capture made sense of.
type Trace struct {
	Datagrams []relay.Datagram
	Conns     []*Conn
	// Packets are all packets in capture order; VersionNegotiation and
	// packets of no known connection have no Conn.
	Packets []*Packet
	// ConnOf maps each packet to its connection.
	ConnOf map[*Packet]*Conn
	// ByDatagram lists the packets of each datagram, by capture index.
	ByDatagram [][]*Packet
}

// analyzer holds the lookups while a trace is built.
type analyzer struct {
	t      *Trace
	keylog KeyLog
	byCID  [2]map[string]*Conn // by the Destination Connection IDs of each direction
	cidLen [2]map[int]bool
	byAddr map[netip.AddrPort]*Conn // the latest connection of a client address
}

// Analyze splits each captured datagram into packets, attributes them to
// connections, decrypts what it has keys for (Initial from the connection
// ID; the rest from the key log, by the ClientHello's random), and parses
// frames and TLS handshake messages.
func Analyze(capture []relay.Datagram, keylog KeyLog) *Trace {
	a := &analyzer{
		t:      &Trace{Datagrams: capture, ConnOf: map[*Packet]*Conn{}, ByDatagram: make([][]*Packet, len(capture))},
		keylog: keylog,
		byCID:  [2]map[string]*Conn{{}, {}},
		cidLen: [2]map[int]bool{{}, {}},
		byAddr: map[netip.AddrPort]*Conn{},
	}
	for i := range capture {
		a.datagram(i, &capture[i])
	}
	return a.t
}

func (a *analyzer) datagram(i int, d *relay.Datagram) {
	b := d.Payload
	for len(b) > 0 {
		p := &Packet{Datagram: i, Dir: d.Dir}
		a.t.Packets = append(a.t.Packets, p)
		a.t.ByDatagram[i] = append(a.t.ByDatagram[i], p)
		if b[0]&0x80 == 0 {
			p.Type = OneRTT
			p.Size = len(b)
			a.shortHeader(p, d, b)
			return
		}
		h, err := parseLongHeader(b)
		if err != nil {
			p.Err, p.Size = err, len(b)
			return
		}
		p.Type, p.Version, p.DCID, p.SCID, p.Token, p.Size = h.typ, h.version, h.dcid, h.scid, h.token, h.length
		a.longHeader(p, d, h, b[:h.length])
		if p.Type == VersionNegotiation || p.Type == Retry {
			return
		}
		b = b[h.length:]
	}
}

func (a *analyzer) attach(c *Conn, p *Packet) {
	if c == nil {
		if p.Err == nil {
			p.Err = errors.New("qtrace: packet of no known connection")
		}
		return
	}
	c.Packets = append(c.Packets, p)
	a.t.ConnOf[p] = c
}

// addCID records a connection ID that packets in direction dir carry.
func (a *analyzer) addCID(c *Conn, dir relay.Dir, cid []byte) {
	c.cids[dir][string(cid)] = true
	a.byCID[dir][string(cid)] = c
	a.cidLen[dir][len(cid)] = true
}

func (a *analyzer) newConn(p *Packet, d *relay.Datagram) *Conn {
	c := &Conn{
		ODCID:       p.DCID,
		Client:      d.Client,
		initialDCID: p.DCID,
		cids:        [2]map[string]bool{{}, {}},
	}
	for s := range c.largest {
		c.largest[s] = [2]int64{-1, -1}
	}
	a.t.Conns = append(a.t.Conns, c)
	a.addCID(c, relay.ToServer, p.DCID)
	return c
}

func (a *analyzer) longHeader(p *Packet, d *relay.Datagram, h *header, raw []byte) {
	if p.Type == VersionNegotiation {
		return
	}
	c := a.byCID[p.Dir][string(p.DCID)]
	if p.Dir == relay.ToClient && len(p.DCID) == 0 {
		c = a.byAddr[d.Client]
	}
	if c == nil && p.Dir == relay.ToServer && (p.Type == Initial || p.Type == ZeroRTT) {
		c = a.newConn(p, d)
	}
	a.attach(c, p)
	if c == nil {
		return
	}
	if p.Dir == relay.ToServer {
		a.addCID(c, relay.ToClient, p.SCID)
		if len(p.SCID) == 0 {
			a.byAddr[d.Client] = c
		}
	} else if p.Type != Retry {
		if p.Type == Initial && !containsCID(c.ServerSCIDs, p.SCID) {
			c.ServerSCIDs = append(c.ServerSCIDs, p.SCID)
		}
		a.addCID(c, relay.ToServer, p.SCID)
	}
	switch p.Type {
	case Retry:
		if c.Retry == nil {
			c.Retry = p
			// Initial keys now come from the Retry's connection ID
			// (RFC 9001 §5.2).
			c.initialDCID = p.SCID
			a.addCID(c, relay.ToServer, p.SCID)
		}
		return
	case Initial:
		client, server := initialKeys(p.Version, c.initialDCID)
		if p.Dir == relay.ToClient {
			client = server
		}
		a.open(c, p, client, raw, h.pnOffset, 0)
	case Handshake:
		a.open(c, p, c.handshakeKeys(p.Dir, p.Version), raw, h.pnOffset, 1)
	case ZeroRTT:
		k := c.earlyKeys(p.Version)
		if k == nil {
			c.deferred = append(c.deferred, deferredPacket{p, raw, h.pnOffset})
			p.Err = errors.New("qtrace: no 0-RTT keys (yet)")
			return
		}
		a.open(c, p, k, raw, h.pnOffset, 2)
	}
}

func containsCID(list [][]byte, cid []byte) bool {
	for _, c := range list {
		if string(c) == string(cid) {
			return true
		}
	}
	return false
}

func (a *analyzer) shortHeader(p *Packet, d *relay.Datagram, b []byte) {
	var c *Conn
	for n := range a.cidLen[p.Dir] {
		if n == 0 || len(b) < 1+n {
			continue
		}
		if c = a.byCID[p.Dir][string(b[1:1+n])]; c != nil {
			p.DCID = b[1 : 1+n]
			break
		}
	}
	if c == nil && p.Dir == relay.ToClient && a.cidLen[p.Dir][0] {
		c = a.byAddr[d.Client]
		p.DCID = []byte{}
	}
	a.attach(c, p)
	if c == nil {
		return
	}
	a.openOneRTT(c, p, b, 1+len(p.DCID))
}

// space indexes packet number spaces: Initial, Handshake, application.
func (a *analyzer) open(c *Conn, p *Packet, k *keys, raw []byte, pnOffset, space int) {
	if k == nil {
		p.Err = errors.New("qtrace: no keys (missing from the key log?)")
		return
	}
	hdr, pn, err := k.unprotect(raw, pnOffset, c.largest[space][p.Dir])
	if err != nil {
		p.Err = err
		return
	}
	payload, err := k.decrypt(hdr, raw[len(hdr):], pn)
	if err != nil {
		p.Err = fmt.Errorf("qtrace: %s packet does not open: %w", p.Type, err)
		return
	}
	a.opened(c, p, pn, payload, space)
}

func (a *analyzer) openOneRTT(c *Conn, p *Packet, raw []byte, pnOffset int) {
	k0 := c.appKeys(p.Dir, 0)
	if k0 == nil {
		p.Err = errors.New("qtrace: no 1-RTT keys (missing from the key log?)")
		return
	}
	hdr, pn, err := k0.unprotect(raw, pnOffset, c.largest[2][p.Dir])
	if err != nil {
		p.Err = err
		return
	}
	// RFC 9001 §6: the key phase bit names the generation's parity; the
	// current one, the next one (the peer updated) or the one before
	// (a packet reordered across an update).
	phase := int(hdr[0]>>2) & 1
	cur := c.appCur[p.Dir]
	candidates := []int{cur}
	if cur&1 != phase {
		candidates = []int{cur + 1, cur - 1}
	}
	for _, gen := range candidates {
		if gen < 0 {
			continue
		}
		k := c.appKeys(p.Dir, gen)
		if k == nil {
			continue
		}
		payload, err := k.decrypt(hdr, raw[len(hdr):], pn)
		if err != nil {
			continue
		}
		p.KeyPhase = gen
		c.appCur[p.Dir] = max(cur, gen)
		a.opened(c, p, pn, payload, 2)
		return
	}
	p.Err = fmt.Errorf("qtrace: 1-RTT packet (key phase %d) does not open", phase)
}

func (a *analyzer) opened(c *Conn, p *Packet, pn uint64, payload []byte, space int) {
	p.Decrypted, p.Err, p.PN, p.PayloadLen = true, nil, pn, len(payload)
	c.largest[space][p.Dir] = max(c.largest[space][p.Dir], int64(pn))
	f, err := parseFrames(payload)
	p.Frames = f
	if err != nil {
		p.Err = err
	}
	for _, cid := range f.NewConnectionIDs {
		// A NEW_CONNECTION_ID from the client is a CID the server sends to.
		a.addCID(c, 1-p.Dir, cid)
	}
	level := space
	if p.Type == ZeroRTT {
		return // 0-RTT carries no CRYPTO frames
	}
	for _, cf := range f.Crypto {
		for _, m := range c.crypto[level][p.Dir].add(cf) {
			a.message(c, p.Dir, m)
		}
	}
}

func (a *analyzer) message(c *Conn, dir relay.Dir, m handshakeMsg) {
	c.Messages[dir] = append(c.Messages[dir], m.typ)
	switch m.typ {
	case msgClientHello:
		if ch, err := parseClientHello(m.body); err == nil && c.ClientHello == nil {
			c.ClientHello = ch
			c.secrets = a.keylog[hex.EncodeToString(ch.Random)]
		}
	case msgServerHello:
		if sh, err := parseServerHello(m.body); err == nil && c.ServerHello == nil {
			c.ServerHello = sh
			a.retryDeferred(c)
		}
	case msgEncryptedExtensions:
		if params, err := serverTransportParams(m.body); err == nil {
			c.ServerParams = params
			if cid := preferredAddressCID(params[tpPreferredAddress]); cid != nil {
				// RFC 9000 §9.6: the client may send to this ID.
				a.addCID(c, relay.ToServer, cid)
			}
		}
	}
}

func (a *analyzer) retryDeferred(c *Conn) {
	deferred := c.deferred
	c.deferred = nil
	for _, dp := range deferred {
		a.open(c, dp.p, c.earlyKeys(dp.p.Version), dp.raw, dp.pnOffset, 2)
	}
}

// secretKeys derives keys from the key log secret label, with the
// ServerHello's suite.
func (c *Conn) secretKeys(label string, version uint32) *keys {
	secret := c.secrets[label]
	if secret == nil || c.ServerHello == nil {
		return nil
	}
	k, err := newKeys(c.ServerHello.CipherSuite, version, secret)
	if err != nil {
		return nil
	}
	return k
}

func (c *Conn) handshakeKeys(dir relay.Dir, version uint32) *keys {
	if c.hsKeys[dir] == nil {
		label := "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
		if dir == relay.ToClient {
			label = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
		}
		c.hsKeys[dir] = c.secretKeys(label, version)
	}
	return c.hsKeys[dir]
}

func (c *Conn) earlyKeys(version uint32) *keys {
	if c.early == nil {
		c.early = c.secretKeys("CLIENT_EARLY_TRAFFIC_SECRET", version)
	}
	return c.early
}

// Version is the version of the connection's handshake: that of the
// server's last Initial or Handshake packet.
func (c *Conn) Version() uint32 {
	v := uint32(Version1)
	for _, p := range c.Packets {
		if p.Dir == relay.ToClient && (p.Type == Initial || p.Type == Handshake) {
			v = p.Version
		}
	}
	return v
}

// appKeys returns generation gen of the 1-RTT keys of a direction,
// deriving it (and those before) when first needed.
func (c *Conn) appKeys(dir relay.Dir, gen int) *keys {
	if len(c.app[dir]) == 0 {
		label := "CLIENT_TRAFFIC_SECRET_0"
		if dir == relay.ToClient {
			label = "SERVER_TRAFFIC_SECRET_0"
		}
		k := c.secretKeys(label, c.Version())
		if k == nil {
			return nil
		}
		c.app[dir] = []*keys{k}
	}
	for len(c.app[dir]) <= gen {
		next, err := c.app[dir][len(c.app[dir])-1].next()
		if err != nil {
			return nil
		}
		c.app[dir] = append(c.app[dir], next)
	}
	return c.app[dir][gen]
}
