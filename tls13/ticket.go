package tls13

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
)

// Session tickets (RFC 8446 §4.6.1). The server keeps no per-session state:
// a ticket is the session itself, sealed with AES-256-GCM under a ticket
// key. Layout: key id (4) | nonce (12) | ciphertext of sessionState.

const ticketKeyIDLen = 4

type ticketKey struct {
	id   [ticketKeyIDLen]byte
	aead cipher.AEAD
}

func newTicketKeys(keys [][32]byte) ([]ticketKey, error) {
	tks := make([]ticketKey, 0, len(keys))
	for _, k := range keys {
		tk, err := newTicketKey(k)
		if err != nil {
			return nil, err
		}
		tks = append(tks, tk)
	}
	return tks, nil
}

func newTicketKey(k [32]byte) (ticketKey, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return ticketKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return ticketKey{}, err
	}
	sum := sha256.Sum256(k[:])
	tk := ticketKey{aead: aead}
	copy(tk.id[:], sum[:])
	return tk, nil
}

// sessionState is what a ticket carries.
type sessionState struct {
	suite        uint16
	createdAt    uint64 // Unix milliseconds
	ageAdd       uint32
	lifetime     uint32 // seconds
	psk          []byte
	alpn         string
	earlyData    bool
	appData      []byte
	peerCertsDER [][]byte
}

const sessionStateVersion = 1

func (s *sessionState) marshal() []byte {
	b := make([]byte, 0, 64+len(s.psk)+len(s.appData))
	b = append(b, sessionStateVersion)
	b = appendU16(b, s.suite)
	b = appendU64(b, s.createdAt)
	b = appendU32(b, s.ageAdd)
	b = appendU32(b, s.lifetime)
	b = appendVec8(b, s.psk)
	b = appendVec8(b, []byte(s.alpn))
	if s.earlyData {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendVec16(b, s.appData)
	b, start := beginVec(b, 3)
	for _, c := range s.peerCertsDER {
		b = appendVec24(b, c)
	}
	return endVec(b, start, 3)
}

func parseSessionState(b []byte) (*sessionState, bool) {
	r := newReader(b)
	s := &sessionState{}
	if r.u8() != sessionStateVersion {
		return nil, false
	}
	s.suite = r.u16()
	s.createdAt = r.u64()
	s.ageAdd = r.u32()
	s.lifetime = r.u32()
	s.psk = r.vec8()
	s.alpn = string(r.vec8())
	s.earlyData = r.u8() == 1
	s.appData = r.vec16()
	certs := newReader(r.vec24())
	for r.ok && certs.ok && !certs.empty() {
		s.peerCertsDER = append(s.peerCertsDER, certs.vec24())
	}
	if !r.ok || !certs.ok || !r.empty() || cipherSuiteByID(s.suite) == nil {
		return nil, false
	}
	return s, true
}

// maxTicketLen is the largest ticket NewSessionTicket carries
// (RFC 8446 §4.6.1: ticket<1..2^16-1>).
const maxTicketLen = 1<<16 - 1

// sealTicket encrypts a session under the first (current) ticket key.
func sealTicket(keys []ticketKey, s *sessionState, rand io.Reader) ([]byte, error) {
	if len(s.appData) > maxTicketLen/2 {
		return nil, errors.New("tls13: ticket application data too large")
	}
	pt := s.marshal()
	if ticketKeyIDLen+12+len(pt)+16 > maxTicketLen {
		return nil, errors.New("tls13: session too large for a ticket")
	}
	k := keys[0]
	out := make([]byte, ticketKeyIDLen+12, ticketKeyIDLen+12+len(pt)+k.aead.Overhead())
	copy(out, k.id[:])
	if _, err := io.ReadFull(rand, out[ticketKeyIDLen:]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[ticketKeyIDLen:], pt, out[:ticketKeyIDLen]), nil
}

// openTicket decrypts a ticket with whichever key its id names. Tickets are
// attacker-controlled: any failure just means no resumption.
func openTicket(keys []ticketKey, ticket []byte) (*sessionState, bool) {
	if len(ticket) < ticketKeyIDLen+12+16 {
		return nil, false
	}
	for _, k := range keys {
		if string(k.id[:]) != string(ticket[:ticketKeyIDLen]) {
			continue
		}
		pt, err := k.aead.Open(nil, ticket[ticketKeyIDLen:ticketKeyIDLen+12], ticket[ticketKeyIDLen+12:], ticket[:ticketKeyIDLen])
		if err != nil {
			return nil, false
		}
		return parseSessionState(pt)
	}
	return nil, false
}

// SetTicketAppData sets opaque data a server stores in the tickets it
// issues from now on; Config.AcceptEarlyData sees it when a ticket comes
// back. QUIC stores the transport parameters that 0-RTT must not exceed
// (RFC 9000 §7.4.1) and HTTP/3 its SETTINGS (RFC 9114 §7.2.4.2). By default
// the server's own transport parameters are stored. The data travels
// inside the ticket: a few KiB at most (a ticket is under 64 KiB).
func (c *Conn) SetTicketAppData(data []byte) {
	c.ticketAppData = append([]byte(nil), data...)
	c.ticketAppDataSet = true
}

// SendSessionTickets queues n NewSessionTicket messages at the Application
// level (RFC 8446 §4.6.1); QUIC sends them in CRYPTO frames once the
// handshake is complete (the driver calls it on EventHandshakeDone). Each
// ticket is usable once, so a client that opens several connections wants
// several. With earlyData the tickets allow 0-RTT: max_early_data_size is
// 0xffffffff, the only value QUIC allows (RFC 9001 §4.6.1). Servers only.
// It does nothing when tickets are disabled or the client cannot use them
// (it did not offer psk_dhe_ke).
func (c *Conn) SendSessionTickets(n int, earlyData bool) error {
	for i := 0; i < n; i++ {
		if err := c.SendSessionTicket(earlyData); err != nil {
			return err
		}
	}
	return nil
}

// SendSessionTicket is SendSessionTickets(1, earlyData).
func (c *Conn) SendSessionTicket(earlyData bool) error {
	if c.isClient || !c.state.HandshakeComplete || c.err != nil {
		return errors.New("tls13: SendSessionTicket needs a server with a completed handshake")
	}
	cfg := c.config
	if cfg.SessionTicketsDisabled || !c.ticketPSKDHE {
		return nil
	}
	keys, err := cfg.ticketKeys()
	if err != nil {
		return err
	}
	// RFC 8446 §4.6.1: the nonce makes each ticket's PSK distinct.
	var nonce [8]byte
	binary.BigEndian.PutUint64(nonce[:], uint64(c.ticketsSent))
	c.ticketsSent++
	var ageAdd [4]byte
	if _, err := io.ReadFull(cfg.rand(), ageAdd[:]); err != nil {
		return err
	}
	appData := c.localParams
	if c.ticketAppDataSet {
		appData = c.ticketAppData
	}
	sess := &sessionState{
		suite:     c.suite.id,
		createdAt: uint64(cfg.now().UnixMilli()),
		ageAdd:    binary.BigEndian.Uint32(ageAdd[:]),
		lifetime:  cfg.ticketLifetime(),
		psk:       c.suite.resumptionPSK(c.resumptionSecret, nonce[:]),
		alpn:      c.state.NegotiatedProtocol,
		earlyData: earlyData,
		appData:   appData,
	}
	for _, pc := range c.state.PeerCertificates {
		sess.peerCertsDER = append(sess.peerCertsDER, pc.Raw)
	}
	ticket, err := sealTicket(keys, sess, cfg.rand())
	if err != nil {
		return err
	}
	m := &newSessionTicketMsg{
		lifetime:     sess.lifetime,
		ageAdd:       sess.ageAdd,
		nonce:        nonce[:],
		ticket:       ticket,
		hasEarlyData: earlyData,
		maxEarlyData: maxEarlyDataQUIC,
	}
	c.writeData(LevelApplication, m.marshal())
	return nil
}
