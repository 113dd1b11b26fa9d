package quic

import (
	"bytes"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// read is the endpoint's goroutine: it reads datagrams in batches and
// routes each. With GRO a message holds a run of coalesced datagrams, which
// go to their connections as slices of its buffer, without a copy; a small
// datagram alone is copied into a small buffer (receive buffers, rxbuf.go).
// Datagrams for one connection that arrive together go to it as one run:
// one lock, one wake-up.
func (e *Endpoint) read() {
	defer close(e.readerDone)
	if err := e.readLoop(e.sock, 0); err != nil {
		e.mu.Lock()
		e.readErr = err
		e.mu.Unlock()
	}
}

// readLoop reads sock, local socket number local of the endpoint (its
// first, or a path socket: endpoint_paths.go), until it fails.
func (e *Endpoint) readLoop(sock packetConn, local int) error {
	pool, entries := &smallBuffers, udpio.MaxBatch
	if e.gro {
		// 16 entries of 64 KiB: 1 MiB, and up to 1,000 datagrams a call.
		pool, entries = &groBuffers, groEntries
	}
	var msgs [udpio.MaxBatch]udpio.Message
	var held [udpio.MaxBatch]*rxBuffer
	// copies are the small buffers datagrams that came alone were copied
	// into, this batch.
	var copies [udpio.MaxBatch]*rxBuffer
	r := router{e: e, run: make([]datagram, 0, maxRun), local: int32(local)}
	pool.addReader(1)
	if pool != &smallBuffers {
		smallBuffers.addReader(1)
	}
	defer func() {
		// The buffers the reader holds go back, and the pools keep
		// spares for one reader fewer.
		pool.put(held[:entries])
		smallBuffers.put(r.small[:r.smallLen])
		pool.addReader(-1)
		if pool != &smallBuffers {
			smallBuffers.addReader(-1)
		}
	}()
	offer := func() {
		pool.fill(held[:entries])
		for i := range entries {
			msgs[i].Buf = held[i].buf
		}
	}
	offer()
	return readBatches(sock, msgs[:entries], func(n int) bool {
		ncopies := 0
		for i := range n {
			m := &msgs[i]
			if m.ICMP != nil {
				e.onICMPError(m) // endpoint_icmp.go
				continue
			}
			seg := m.SegmentSize
			if seg == 0 || m.N <= seg {
				seg = m.N
			}
			if m.N == 0 || seg > e.maxReceive {
				// Nothing usable (the buffer stays for the next call), or
				// larger than our max_udp_payload_size allows.
				continue
			}
			if seg == m.N {
				rb := held[i]
				if e.gro && m.N <= maxReceiveSize {
					rb = r.copySingle(m, &copies[ncopies])
					ncopies++
				}
				r.route(datagram{rb: rb, n: int32(m.N), from: m.Addr, ecn: uint8(m.ECN)})
				continue
			}
			for off := 0; off < m.N; off += seg {
				n := min(seg, m.N-off)
				if !r.continueRun(held[i], off, n) {
					r.route(datagram{rb: held[i], off: int32(off), n: int32(n), seg: int32(seg), from: m.Addr, ecn: uint8(m.ECN)})
				}
			}
		}
		r.flush()
		// The reader's own reference goes: a buffer nothing was handed
		// from is used again, the others belong to their connections now
		// (the last one done gives it back to the pool).
		for i := range entries {
			if !held[i].release() {
				held[i] = nil
			} else {
				held[i].refs.Store(1)
			}
		}
		for i := range ncopies {
			if copies[i].release() {
				smallBuffers.put(copies[i : i+1])
			}
			copies[i] = nil
		}
		offer()
		return true
	})
}

// batchesReader is a socket that reads batch after batch itself
// (udpio.Conn.ReadBatches), waiting for readiness after a batch that
// emptied its queue instead of asking the kernel again.
type batchesReader interface {
	ReadBatches(msgs []udpio.Message, handle func(n int) bool) error
}

// readBatches reads sock batch after batch, handing each to handle, until
// reading fails.
func readBatches(sock packetConn, msgs []udpio.Message, handle func(n int) bool) error {
	if br, ok := sock.(batchesReader); ok {
		return br.ReadBatches(msgs, handle)
	}
	for {
		n, err := sock.ReadBatch(msgs)
		if err != nil {
			return err
		}
		handle(n)
	}
}

// groEntries is how many 64 KiB buffers the reader offers per call with
// GRO; maxRun bounds a run of datagrams handed over at once.
const (
	groEntries = 16
	maxRun     = 256
)

// router collects the datagrams of a read batch into runs per connection.
type router struct {
	e       *Endpoint
	run     []datagram
	runConn *Conn
	lastID  wire.ConnectionID
	local   int32 // the socket's number, for the datagrams' path
	// small holds free small buffers for datagrams that came alone.
	small    [udpio.MaxBatch]*rxBuffer
	smallLen int
}

// copySingle copies a datagram that came alone out of its GRO buffer into
// a small one, kept in *slot until the batch is routed.
func (r *router) copySingle(m *udpio.Message, slot **rxBuffer) *rxBuffer {
	if r.smallLen == 0 {
		smallBuffers.fill(r.small[:])
		r.smallLen = len(r.small)
	}
	r.smallLen--
	rb := r.small[r.smallLen]
	r.small[r.smallLen] = nil
	copy(rb.buf, m.Buf[:m.N])
	*slot = rb
	return rb
}

// continueRun adds bytes [off, off+n) of rb, the next segment of the GRO
// run whose previous segment ends the current run, to that run when it is
// a short header packet with the run's Destination Connection ID: the
// connection route would find. It reports whether it did; the segment
// then needs no look-up.
func (r *router) continueRun(rb *rxBuffer, off, n int) bool {
	k := len(r.run) - 1
	if k < 0 || n <= conn.ConnIDLen {
		return false
	}
	last := &r.run[k]
	b := rb.buf[off : off+n]
	if last.rb != rb || last.seg == 0 || int(last.off+last.n) != off || last.n%last.seg != 0 || n > int(last.seg) ||
		b[0]&0x80 != 0 || !bytes.Equal(b[1:1+conn.ConnIDLen], r.lastID.Bytes()) {
		return false
	}
	last.n += int32(n)
	return true
}

// route finds d's connection and adds d to the run for it: to the last
// entry when d continues its GRO run, else as a new entry holding a
// reference to its buffer.
func (r *router) route(d datagram) {
	d.local = r.local
	c, dcid := r.e.route(&d, r.runConn, r.lastID)
	if c == nil {
		return
	}
	if c != r.runConn || len(r.run) == cap(r.run) {
		r.flush()
	}
	r.runConn, r.lastID = c, dcid
	if n := len(r.run); n > 0 && r.run[n-1].extend(&d) {
		return
	}
	d.rb.refs.Add(1)
	r.run = append(r.run, d)
}

// flush hands the run to its connection.
func (r *router) flush() {
	if len(r.run) > 0 {
		r.runConn.deliver(r.run)
		r.run = r.run[:0]
	}
	r.runConn = nil
}

// route finds the connection a datagram is for, or deals with it here. It
// returns the connection the caller must deliver d to (nil when there is
// none, perhaps a new one made here) with d's Destination Connection ID.
// A datagram with the same Destination Connection ID as the previous one of
// the batch (lastID) goes to the same connection (last) without a look-up.
func (e *Endpoint) route(d *datagram, last *Conn, lastID wire.ConnectionID) (c *Conn, dcid wire.ConnectionID) {
	b := d.bytes()
	if len(b) == 0 {
		return nil, dcid
	}
	inv, err := wire.ParseInvariants(b, conn.ConnIDLen)
	if err != nil {
		return nil, dcid
	}
	if inv.Long && inv.Version != 0 && !e.speaks(wire.Version(inv.Version)) { // vn.go
		// RFC 9000 §6.1: answer an unknown version with Version
		// Negotiation, but only to a datagram that could start a
		// connection (§14.1), so we are no amplifier. Its connection
		// IDs may be up to 255 bytes long (RFC 8999 §5.1): servers
		// SHOULD read them to form the answer (RFC 9000 §17.2).
		if len(b) >= conn.InitialMaxDatagramSize {
			e.sendVersionNegotiation(d, &inv)
		}
		return nil, dcid
	}
	dcid, err = wire.MakeConnectionID(inv.DCID)
	if err != nil {
		// RFC 9000 §17.2: a version 1 long header with a connection ID
		// longer than 20 bytes MUST be dropped.
		return nil, dcid
	}
	if last != nil && dcid == lastID {
		return last, dcid
	}
	e.mu.Lock()
	c = e.conns[dcid]
	var l *lingerEntry
	if c == nil {
		l = e.lingeringFor(dcid)
	}
	e.mu.Unlock()
	if c != nil {
		return c, dcid
	}
	if l != nil {
		l.answer(e) // endpoint_linger.go
		return nil, dcid
	}
	if !inv.Long {
		// RFC 9000 §10.3.1: a stateless reset has a random Destination
		// Connection ID; its connection is found by the token ending it.
		if c := e.connByResetToken(b); c != nil {
			return c, dcid
		}
		// RFC 9000 §10.3: a short header packet for no connection we know
		// gets a stateless reset, so a peer that lost us stops quickly.
		e.sendStatelessReset(d, inv.DCID)
		return nil, dcid
	}
	if !wire.Version(inv.Version).IsSupported() {
		return nil, dcid // a Version Negotiation packet for no connection of ours
	}
	if e.server == nil {
		return nil, dcid
	}
	return e.acceptInitial(d, dcid), dcid
}

// acceptInitial starts a server connection for a client's first Initial
// and returns it, or the connection a retransmission of it is for; nil
// when the datagram starts nothing.
func (e *Endpoint) acceptInitial(d *datagram, dcid wire.ConnectionID) *Conn {
	b := d.bytes()
	hdr, err := wire.ParseHeader(b, conn.ConnIDLen, false)
	if err != nil || hdr.Type != wire.PacketInitial || len(b) < conn.InitialMaxDatagramSize {
		return nil
	}
	// RFC 9000 §7.2: the client's first Destination Connection ID is at
	// least 8 bytes.
	if dcid.Len() < 8 {
		return nil
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	// A retransmitted first Initial finds the connection by its original
	// Destination Connection ID, registered below.
	if c := e.conns[dcid]; c != nil {
		e.mu.Unlock()
		return c
	}
	serverConn := e.serverConn // replaced, not changed, by announcePreferred
	e.mu.Unlock()
	// Address validation with Retry when the Config requires it, or when
	// half-open connections pass their limits (endpoint_halfopen.go); a
	// token is checked whenever there is one, since a client that had a
	// Retry expects the server to say so (RFC 9000 §7.3). A NEW_TOKEN
	// token validates the address by itself: no Retry (newtoken.go); one
	// that does not is ignored (§8.1.3).
	now := time.Now()
	validated := e.newTokenValidates(d, &hdr)
	retryToken := len(hdr.Token) > 0 && !isNewToken(hdr.Token)
	var retry *conn.RetryInfo
	if !validated && (e.server.RequireAddressValidation || retryToken || e.halfOpen.retryDue(now)) {
		var proceed bool
		if retry, proceed = e.validateAddress(d, &hdr); !proceed {
			return nil
		}
	}
	kind := halfOpenUnvalidated
	if retry != nil || validated {
		kind = halfOpenValidated
	}
	if !e.halfOpen.start(now, kind) {
		return nil // MaxHalfOpen: the client tries again later
	}
	scid := newConnectionID()
	c, err := newConn(now, e, e.server, serverConn, &conn.Params{
		Version: hdr.Version, DCID: dcid, SCID: scid, Peer: d.from, Retry: retry, AddressValidated: validated,
	})
	if err != nil {
		e.halfOpen.end(kind)
		return nil
	}
	c.halfOpen = kind
	e.mu.Lock()
	e.conns[dcid] = c
	e.conns[scid] = c
	// The client's first Destination Connection ID, then ours: the
	// handshake's and those issued after it.
	ids := make([]wire.ConnectionID, 2, 1+conn.ActiveConnectionIDs)
	ids[0], ids[1] = dcid, scid
	e.all[c] = ids
	e.mu.Unlock()
	go c.start()
	return c
}

// sendVersionNegotiation answers with the versions we support, within the
// limits on stateless replies (endpoint_limit.go).
func (e *Endpoint) sendVersionNegotiation(d *datagram, inv *wire.Invariants) {
	if !e.replies.allow(d.from) {
		return
	}
	var buf [7 + 2*255 + 4*4]byte // connection IDs of up to 255 bytes, the versions
	out, err := wire.AppendVersionNegotiation(buf[:0], inv, e.negotiationVersions(), 0x40)
	if err != nil {
		return
	}
	e.write(out, d.from)
}

// sendStatelessReset answers a packet for an unknown connection with a
// stateless reset (RFC 9000 §10.3): random bytes that look like a short
// header packet, ending with the token for that connection ID. It is
// smaller than the packet that triggered it, so two endpoints cannot loop
// (§10.3.3), not sent to packets too small to hide it in, and rate
// limited (endpoint_limit.go).
func (e *Endpoint) sendStatelessReset(d *datagram, dcid []byte) {
	const minReset = 21 // RFC 9000 §10.3: at least 5 random bytes + token
	size := int(d.n) - 1
	if size < minReset+10 || !e.replies.allow(d.from) {
		return
	}
	size = min(size, 64)
	var buf [64]byte
	out := buf[:size]
	randomBytes(out[:size-wire.StatelessResetTokenLen])
	out[0] = 0x40 | out[0]&0x3f // a short header: form 0, fixed bit 1
	tok := conn.StatelessResetToken(&e.resetKey, dcid)
	copy(out[size-wire.StatelessResetTokenLen:], tok[:])
	e.write(out, d.from)
}
