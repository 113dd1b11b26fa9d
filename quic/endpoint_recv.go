package quic

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// read is the endpoint's goroutine: it reads datagrams in batches and
// routes each.
func (e *Endpoint) read() {
	defer close(e.readerDone)
	var msgs [udpio.MaxBatch]udpio.Message
	var held [udpio.MaxBatch]*datagram
	for i := range msgs {
		held[i] = getDatagram()
		msgs[i].Buf = held[i].buf
	}
	for {
		n, err := e.sock.ReadBatch(msgs[:])
		if err != nil {
			e.mu.Lock()
			e.readErr = err
			e.mu.Unlock()
			return
		}
		for i := range n {
			m := &msgs[i]
			// ReadBatch may swap buffers among messages; find the
			// datagram that owns this one by its storage.
			d := e.ownerOf(held[:], m.Buf)
			d.n, d.from, d.ecn = m.N, m.Addr, uint8(m.ECN)
			if e.route(d) {
				// The connection keeps d; take a fresh one.
				nd := getDatagram()
				e.replace(held[:], d, nd)
			}
		}
		for i := range msgs {
			msgs[i].Buf = held[i].buf
		}
	}
}

// ownerOf finds the pooled datagram whose storage b is.
func (e *Endpoint) ownerOf(held []*datagram, b []byte) *datagram {
	for _, d := range held {
		if &d.buf[0] == &b[:1][0] {
			return d
		}
	}
	return held[0] // unreachable: ReadBatch only permutes our buffers
}

func (e *Endpoint) replace(held []*datagram, old, nd *datagram) {
	for i, d := range held {
		if d == old {
			held[i] = nd
			return
		}
	}
}

// route hands a datagram to its connection, or deals with it here. It
// reports whether a connection took the datagram.
func (e *Endpoint) route(d *datagram) bool {
	b := d.buf[:d.n]
	if len(b) == 0 {
		return false
	}
	inv, err := wire.ParseInvariants(b, connIDLen)
	if err != nil {
		return false
	}
	dcid, err := wire.MakeConnectionID(inv.DCID)
	if err != nil {
		return false // longer than QUIC v1 allows: not ours
	}
	e.mu.Lock()
	c := e.conns[dcid]
	e.mu.Unlock()
	if c != nil {
		c.deliver(d)
		return true
	}
	if !inv.Long {
		// RFC 9000 §10.3: a short header packet for no connection we know
		// gets a stateless reset, so a peer that lost us stops quickly.
		e.sendStatelessReset(d, inv.DCID)
		return false
	}
	if !wire.Version(inv.Version).IsSupported() {
		// RFC 9000 §6.1: answer an unknown version with Version
		// Negotiation, but only to a datagram that could start a
		// connection (§14.1), so we are no amplifier.
		if inv.Version != 0 && len(b) >= initialMaxDatagramSize {
			e.sendVersionNegotiation(d, &inv)
		}
		return false
	}
	if e.server == nil {
		return false
	}
	return e.acceptInitial(d, dcid)
}

// acceptInitial starts a server connection for a client's first Initial.
func (e *Endpoint) acceptInitial(d *datagram, dcid wire.ConnectionID) bool {
	b := d.buf[:d.n]
	hdr, err := wire.ParseHeader(b, connIDLen, false)
	if err != nil || hdr.Type != wire.PacketInitial || len(b) < initialMaxDatagramSize {
		return false
	}
	// RFC 9000 §7.2: the client's first Destination Connection ID is at
	// least 8 bytes.
	if dcid.Len() < 8 {
		return false
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	// A retransmitted first Initial finds the connection by its original
	// Destination Connection ID, registered below.
	if c := e.conns[dcid]; c != nil {
		e.mu.Unlock()
		c.deliver(d)
		return true
	}
	e.mu.Unlock()
	scid := newConnectionID()
	c, err := newConn(time.Now(), e.server, false, hdr.Version, dcid, scid, d.from, e)
	if err != nil {
		return false
	}
	e.mu.Lock()
	e.conns[dcid] = c
	e.conns[scid] = c
	e.all[c] = struct{}{}
	e.mu.Unlock()
	go c.run()
	c.deliver(d)
	return true
}

// sendVersionNegotiation answers with the versions we support.
func (e *Endpoint) sendVersionNegotiation(d *datagram, inv *wire.Invariants) {
	var buf [256]byte
	out, err := wire.AppendVersionNegotiation(buf[:0], inv, []wire.Version{wire.Version1, wire.Version2}, 0x40)
	if err != nil {
		return
	}
	e.write(out, 0, d.from)
}

// sendStatelessReset answers a packet for an unknown connection with a
// stateless reset (RFC 9000 §10.3): random bytes that look like a short
// header packet, ending with the token for that connection ID. It is
// smaller than the packet that triggered it, so two endpoints cannot loop
// (§10.3.3), and not sent to packets too small to hide it in.
func (e *Endpoint) sendStatelessReset(d *datagram, dcid []byte) {
	const minReset = 21 // RFC 9000 §10.3: at least 5 random bytes + token
	size := d.n - 1
	if size < minReset+10 {
		return
	}
	size = min(size, 64)
	var buf [64]byte
	out := buf[:size]
	randomBytes(out[:size-wire.StatelessResetTokenLen])
	out[0] = 0x40 | out[0]&0x3f // a short header: form 0, fixed bit 1
	tok := statelessResetToken(&e.resetKey, dcid)
	copy(out[size-wire.StatelessResetTokenLen:], tok[:])
	e.write(out, 0, d.from)
}
