package quic

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// read is the endpoint's goroutine: it reads datagrams in batches and
// routes each. Datagrams for one connection that arrive together go to it
// as one run (one lock, one wake-up), and the buffers connections kept are
// replaced from the free list once per batch.
func (e *Endpoint) read() {
	defer close(e.readerDone)
	var msgs [udpio.MaxBatch]udpio.Message
	var held [udpio.MaxBatch]*datagram
	var run [udpio.MaxBatch]*datagram
	rxBuffers.fill(held[:])
	for {
		for i := range msgs {
			msgs[i].Buf = held[i].buf
		}
		n, err := e.sock.ReadBatch(msgs[:])
		if err != nil {
			e.mu.Lock()
			e.readErr = err
			e.mu.Unlock()
			return
		}
		var (
			runConn *Conn
			runLen  int
			lastID  wire.ConnectionID
		)
		for i := range n {
			m := &msgs[i]
			if m.ICMP != nil {
				e.onICMPError(m) // endpoint_icmp.go
				continue
			}
			// ReadBatch may swap buffers among messages; find the
			// datagram that owns this one by its storage.
			j := ownerOf(held[:], i, m.Buf)
			d := held[j]
			d.n, d.from, d.ecn = m.N, m.Addr, uint8(m.ECN)
			c, dcid, taken := e.route(d, runConn, lastID)
			if taken {
				held[j] = nil
			}
			if c == nil {
				continue
			}
			if c != runConn && runLen > 0 {
				runConn.deliverBatch(run[:runLen])
				clear(run[:runLen])
				runLen = 0
			}
			runConn, lastID = c, dcid
			run[runLen] = d
			runLen++
		}
		if runLen > 0 {
			runConn.deliverBatch(run[:runLen])
			clear(run[:runLen])
		}
		rxBuffers.fill(held[:])
	}
}

// ownerOf finds the index of the pooled datagram whose storage b is,
// looking first where it was handed out.
func ownerOf(held []*datagram, i int, b []byte) int {
	if &held[i].buf[0] == &b[:1][0] {
		return i
	}
	for j, d := range held {
		if &d.buf[0] == &b[:1][0] {
			return j
		}
	}
	return i // unreachable: ReadBatch only permutes our buffers
}

// route finds the connection a datagram is for, or deals with it here. It
// returns the connection the caller must deliver d to (nil when there is
// none) with d's Destination Connection ID, and whether d was taken, by
// that connection or one created here. A datagram with the same
// Destination Connection ID as the previous one of the batch (lastID) goes
// to the same connection (last) without a look-up.
func (e *Endpoint) route(d *datagram, last *Conn, lastID wire.ConnectionID) (c *Conn, dcid wire.ConnectionID, taken bool) {
	b := d.buf[:d.n]
	if len(b) == 0 {
		return nil, dcid, false
	}
	inv, err := wire.ParseInvariants(b, connIDLen)
	if err != nil {
		return nil, dcid, false
	}
	dcid, err = wire.MakeConnectionID(inv.DCID)
	if err != nil {
		return nil, dcid, false // longer than QUIC v1 allows: not ours
	}
	if last != nil && dcid == lastID {
		return last, dcid, true
	}
	e.mu.Lock()
	c = e.conns[dcid]
	e.mu.Unlock()
	if c != nil {
		return c, dcid, true
	}
	if !inv.Long {
		// RFC 9000 §10.3.1: a stateless reset has a random Destination
		// Connection ID; its connection is found by the token ending it.
		if c := e.connByResetToken(b); c != nil {
			return c, dcid, true
		}
		// RFC 9000 §10.3: a short header packet for no connection we know
		// gets a stateless reset, so a peer that lost us stops quickly.
		e.sendStatelessReset(d, inv.DCID)
		return nil, dcid, false
	}
	if !wire.Version(inv.Version).IsSupported() {
		// RFC 9000 §6.1: answer an unknown version with Version
		// Negotiation, but only to a datagram that could start a
		// connection (§14.1), so we are no amplifier.
		if inv.Version != 0 && len(b) >= initialMaxDatagramSize {
			e.sendVersionNegotiation(d, &inv)
		}
		return nil, dcid, false
	}
	if e.server == nil {
		return nil, dcid, false
	}
	return nil, dcid, e.acceptInitial(d, dcid)
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
	var retry *retryInfo
	if e.server.RequireAddressValidation {
		var proceed bool
		if retry, proceed = e.validateAddress(d, &hdr); !proceed {
			return false
		}
	}
	scid := newConnectionID()
	c, err := newConnRetry(time.Now(), e.server, false, hdr.Version, dcid, scid, d.from, e, retry)
	if err != nil {
		return false
	}
	e.mu.Lock()
	e.conns[dcid] = c
	e.conns[scid] = c
	e.all[c] = []wire.ConnectionID{dcid, scid}
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
