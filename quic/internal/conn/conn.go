package conn

import (
	"crypto/rand"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Conn is the state machine of one QUIC connection. It is sans-I/O and
// single-threaded: HandleDatagram takes a received datagram and the time,
// AppendBurst writes the datagrams due into memory the caller owns,
// Deadline says when to call HandleTimer, and Events reports what the
// owner must act on. It holds no lock, channel, clock, goroutine or socket;
// one goroutine owns it. Application goroutines reach a connection only
// through its Mailbox and the shared parts of its Streams.
type Conn struct {
	config *Config
	epoch  time.Time // zero point of the monotonic times below
	tls    *tls13.Conn
	// tlsState is the TLS state an idle server kept when it let tls go
	// (releaseTLS).
	tlsState *tls13.ConnectionState
	tracer   *Tracer
	trace    *traceState // what the tracer was told last (trace.go), with a tracer only
	version  wire.Version

	// The flags are kept together, so that an idle connection does not
	// pay for padding around each.
	isClient bool
	// ecnEnabled: datagrams may be marked ECT(0), while ECN validation
	// allows (RFC 9000 §13.4.2): not with Config.DisableECN, nor on a
	// socket that cannot set the mark.
	ecnEnabled bool
	// What the connection keeps of the peer's transport parameters: the
	// rest went into flow control, streams, IDs and timers.
	peerAckDelayExponent uint8
	peerParamsSet        bool
	handshakeComplete    bool // TLS finished (RFC 9001 §4.1.1)
	handshakeConfirmed   bool // RFC 9001 §4.1.2
	handshakeDoneQueued  bool
	completionDue        bool // afterCompletion is due at the datagram's end
	// Pending control frames, retransmitted as values, not packets.
	pendingPing bool
	// PTO probes to send (RFC 9002 §6.2.4), set by the loss detection
	// timer: one or two.
	probeSpace recovery.Space
	probes     uint8

	// Packet number spaces, indexed by recovery.Space.
	spaces [3]pnSpace
	// 1-RTT keys beyond the current generation, for key updates (RFC 9001 §6).
	keys1RTT keyUpdateState
	// 0-RTT keys, client side write / server side read.
	keys0RTT *protect.Keys

	rtt  congestion.RTTStats
	cc   congestion.PacketController
	loss recovery.Recovery

	path pathState
	ids  connIDState

	// pmtu is the datagram size and its discovery; maxReceive the largest
	// datagram the owner's socket takes, our max_udp_payload_size.
	pmtu       pmtuState
	maxReceive int

	retrySCID    *wire.ConnectionID
	retryToken   []byte // client: the token our Initials carry: a Retry's, else a NEW_TOKEN one (Params.Token)
	originalDCID wire.ConnectionID

	mb      *Mailbox
	ackFreq ackFreqState
	flow    connFlow
	streams streamsState
	dgrams  datagramState

	idle    idleState
	closing closeState

	// scratch is space for the acknowledgment path, made on first use
	// and let go by Trim.
	scratch *scratchSpace
	// closeFrameToSend, while set, is the only frame appendPacket writes.
	closeFrameToSend *wire.ConnectionCloseFrame

	events eventQueue
	stats  counters
	// cryptoResume holds where the 1-RTT CRYPTO streams, sending and
	// receiving, resume after an idle connection let them go.
	cryptoResume [2]uint64

	// Version negotiation (vn.go), 0-RTT and session tickets (zerortt.go),
	// NEW_TOKEN (newtoken.go).
	vn     versionState
	early  earlyState
	tokens tokenState
}

// scratchSpace is what the acknowledgment path reuses: ackRanges for
// parsing ACK frames; resolved receives what loss recovery decided about
// sent packets.
type scratchSpace struct {
	ackRanges []wire.AckRange
	resolved  recovery.Resolved
}

// work returns the scratch space, made on first use.
func (c *Conn) work() *scratchSpace {
	if c.scratch == nil {
		c.scratch = new(scratchSpace)
	}
	return c.scratch
}

// pnSpace is one packet number space (RFC 9000 §12.3) and its encryption
// level: keys, received packets to acknowledge, and the CRYPTO stream.
type pnSpace struct {
	readKeys, writeKeys *protect.Keys
	// received is made with the connection and dropped with the space's
	// keys (an idle connection keeps only the Application Data one).
	received *recovery.ReceivedTracker
	// crypto is allocated when the space first carries CRYPTO data and
	// freed when the space is discarded: the Application Data space of
	// a connection without session tickets never needs it.
	crypto      *cryptoStreams
	discarded   bool
	largestRecv int64 // largest packet number received, -1 for none
}

// cryptoStreams is the CRYPTO data of one packet number space, in each
// direction (RFC 9000 §19.6).
type cryptoStreams struct {
	send streambuf.Send
	recv streambuf.Recv
}

// cryptoStream returns the CRYPTO streams of space, allocating them on
// first use; the 1-RTT ones start where those an idle connection let go
// ended (letCryptoGo).
func (c *Conn) cryptoStream(space recovery.Space) *cryptoStreams {
	sp := &c.spaces[space]
	if sp.crypto == nil {
		sp.crypto = new(cryptoStreams)
		if space == recovery.SpaceAppData {
			sp.crypto.send.SkipTo(c.cryptoResume[0])
			sp.crypto.recv.SkipTo(c.cryptoResume[1])
		}
	}
	return sp.crypto
}

// letCryptoGo lets the 1-RTT CRYPTO streams go once drained: what a
// session ticket (RFC 9001 §4.6.1) was sent or received with, every byte
// acknowledged or read. Their offsets stay, for a later ticket.
func (c *Conn) letCryptoGo() {
	cs := c.spaces[recovery.SpaceAppData].crypto
	if cs == nil || cs.send.Buffered() != 0 || cs.send.HasLost() || !cs.recv.Drained() {
		return
	}
	c.cryptoResume = [2]uint64{cs.send.Written(), cs.recv.ReadOffset()}
	c.spaces[recovery.SpaceAppData].crypto = nil
}

// cryptoPending reports whether CRYPTO data waits to be sent.
func (sp *pnSpace) cryptoPending() bool {
	return sp.crypto != nil && sp.crypto.send.HasData(1<<62)
}

// Params identify a new connection.
type Params struct {
	IsClient bool
	Version  wire.Version
	// For a client, DCID is the random Destination Connection ID of its
	// first Initial (RFC 9000 §7.2) and SCID its own; for a server, DCID is
	// what the client chose (it derives the Initial keys; the Retry's Source
	// Connection ID after a Retry) and SCID the server's new ID.
	DCID, SCID wire.ConnectionID
	Peer       netip.AddrPort
	// ResetKey derives the stateless reset tokens of the connection IDs we
	// issue (RFC 9000 §10.3.2); the endpoint's, so that it can answer for
	// connections it forgot.
	ResetKey *[32]byte
	// ECNCapable: the socket sets the ECN mark of the datagrams it sends.
	ECNCapable bool
	// MaxReceiveSize is the largest datagram the socket receives whole,
	// advertised as max_udp_payload_size; 0 means MaxReceiveSize.
	MaxReceiveSize int
	// Retry, on a server, says the client came back with a valid Retry
	// token (RFC 9000 §8.1.2).
	Retry  *RetryInfo
	Tracer *Tracer

	// SessionKey, on a client, is where its TLS sessions are kept in
	// Config.TLS.ClientSessionCache (tls13.Conn.SetSessionCacheKey); the
	// server name when empty.
	SessionKey string
	// Token, on a client, is a token from a NEW_TOKEN frame of an earlier
	// connection to the server, sent in its Initials (RFC 9000 §8.1.3).
	Token []byte
	// AddressValidated, on a server, says the client's first Initial
	// carried a valid NEW_TOKEN token: its address is validated and no
	// amplification limit applies (RFC 9000 §8.1.3).
	AddressValidated bool
}

// RetryInfo is what a valid Retry token tells the server about the
// connection it now creates.
type RetryInfo struct {
	ODCID     wire.ConnectionID // the client's first Destination Connection ID
	RetrySCID wire.ConnectionID // the Source Connection ID of our Retry
}

// Tracer receives a connection's packet events; nil hooks are skipped.
// They run on the owner's goroutine and must not call into the Conn.
type Tracer struct {
	PacketSent, PacketReceived func(packetType string, pn uint64, size int)
	// MigrationState reports a path's progress (qlog's
	// migration_state_updated): "probing_started", "probing_successful",
	// "probing_abandoned", "migration_complete".
	MigrationState func(state string, p Path)
	// MTUUpdated reports a new datagram size, and whether the search ended.
	MTUUpdated func(old, new int, done bool)

	// qlog's debugging events (trace.go; package quic's Tracer documents
	// each).
	PacketSentFrames, PacketReceivedFrames func(PacketInfo)
	PacketLost                             func(p PacketInfo, trigger string)
	MetricsUpdated                         func(*Metrics)
	CongestionStateUpdated                 func(old, new, trigger string)
	KeyUpdated, KeyDiscarded               func(keyType string, keyPhase uint64, trigger string)
	StreamStateUpdated                     func(id uint64, side, state, trigger string)
	ConnectionIDUpdated                    func(initiator string, old, new []byte)
}

// New creates a connection at now.
func New(now time.Time, config *Config, p *Params) (*Conn, error) {
	c := &Conn{
		config:       config,
		isClient:     p.IsClient,
		version:      p.Version,
		epoch:        now,
		originalDCID: p.DCID,
		tracer:       p.Tracer,
	}
	if p.Tracer != nil {
		c.trace = new(traceState)
	}
	if p.Retry != nil {
		// RFC 9000 §7.3: the server echoes the client's first Destination
		// Connection ID and the Retry's Source Connection ID in its
		// transport parameters (buildLocalParams).
		c.originalDCID = p.Retry.ODCID
		rscid := p.Retry.RetrySCID
		c.retrySCID = &rscid
	}
	for i := range c.spaces {
		c.spaces[i].largestRecv = -1
		c.spaces[i].received = new(recovery.ReceivedTracker)
	}
	cc, err := config.newController()
	if err != nil {
		return nil, err
	}
	c.cc = cc
	c.rtt.SetMaxAckDelay(wire.DefaultMaxAckDelay)
	c.loss.Init(&c.rtt, c.cc)
	c.ecnEnabled = !config.DisableECN && p.ECNCapable
	c.path.init(p.Peer, p.IsClient)
	c.pmtu.init(config.maxDatagramSize())
	c.maxReceive = p.MaxReceiveSize
	if c.maxReceive == 0 {
		c.maxReceive = MaxReceiveSize
	}
	if p.Retry != nil || p.AddressValidated {
		// RFC 9000 §8.1.2, §8.1.3: a valid Retry or NEW_TOKEN token
		// validates the client's address; no amplification limit applies.
		c.path.cur.validated = true
	}
	c.idle.init(config, c.mono(now))

	c.vn.init(config, p.Version, p.DCID)
	c.early.sessionKey = p.SessionKey
	if len(p.Token) > 0 {
		c.retryToken = append([]byte(nil), p.Token...)
	}
	// Initial keys come from the client's first Destination Connection ID
	// (RFC 9001 §5.2).
	if err := c.installInitialKeys(p.DCID); err != nil {
		return nil, err
	}
	// RFC 9000 §13.2.1: 1-RTT packets are acknowledged within our
	// max_ack_delay (Initial and Handshake ones at once).
	c.ackFreq.init(wire.DefaultMaxAckDelay)
	c.spaces[recovery.SpaceAppData].received.SetMaxAckDelay(wire.DefaultMaxAckDelay)
	c.ids.init(c, p.SCID, p.DCID, p.ResetKey)
	if !p.IsClient && (config.PreferredAddressV4.IsValid() || config.PreferredAddressV6.IsValid()) {
		// RFC 9000 §9.6.1: the preferred address comes with connection
		// ID sequence number 1, routed from now on.
		l := c.ids.issuePreferredAddressID()
		c.path.preferred = &wire.PreferredAddress{IPv4: config.PreferredAddressV4, IPv6: config.PreferredAddressV6,
			ConnectionID: l.id, StatelessResetToken: c.ids.resetTokenOf(l.id)}
	}
	c.mb = newMailbox(c.isClient, config)
	c.flow.init(c.mb, config)
	c.streams.init(c, config)
	c.dgrams.init(config)
	var params []byte
	if c.isClient {
		params = c.encodeLocalParams()
	}
	if err := c.startTLS(params); err != nil {
		return nil, err
	}
	return c, nil
}

// installInitialKeys derives the Initial keys of both directions from the
// client's Destination Connection ID.
func (c *Conn) installInitialKeys(dcid wire.ConnectionID) error {
	client, server, err := protect.InitialKeys(uint32(c.version), dcid.Bytes())
	if err != nil {
		return err
	}
	sp := &c.spaces[recovery.SpaceInitial]
	if c.isClient {
		sp.writeKeys, sp.readKeys = client, server
	} else {
		sp.writeKeys, sp.readKeys = server, client
	}
	c.traceKeysInstalled(true, tls13.LevelInitial)
	c.traceKeysInstalled(false, tls13.LevelInitial)
	return nil
}

// mono converts a wall-clock reading into the connection's monotonic time.
func (c *Conn) mono(t time.Time) time.Duration { return t.Sub(c.epoch) }

// wall converts a monotonic time back.
func (c *Conn) wall(d time.Duration) time.Time { return c.epoch.Add(d) }

// peerRole is who the peer is.
func (c *Conn) peerRole() wire.Role {
	if c.isClient {
		return wire.RoleServer
	}
	return wire.RoleClient
}

// Mailbox is where application goroutines leave work for the connection.
func (c *Conn) Mailbox() *Mailbox { return c.mb }

// IsClient reports the connection's role.
func (c *Conn) IsClient() bool { return c.isClient }

// PeerAddr is the peer's address on the current path.
func (c *Conn) PeerAddr() netip.AddrPort { return c.path.cur.addr.Remote }

// HandshakeComplete reports whether the TLS handshake has completed.
func (c *Conn) HandshakeComplete() bool { return c.handshakeComplete }

// PeerMaxDatagramFrameSize is the peer's max_datagram_frame_size (RFC 9221
// §3): 0 when it takes no DATAGRAM frames, or its transport parameters
// have not arrived.
func (c *Conn) PeerMaxDatagramFrameSize() uint64 {
	if !c.peerParamsSet {
		return 0
	}
	return c.dgrams.peerMax
}

// Stats is a snapshot of a connection's counters.
type Stats struct {
	SmoothedRTT, MinRTT, LatestRTT, RTTVar time.Duration
	CongestionWindow, BytesInFlight        int
	PacketsSent, PacketsReceived           uint64
	PacketsLost, PacketsAcked              uint64
	BytesSent, BytesReceived               uint64
	DatagramsSent, DatagramsReceived       uint64
	PTOCount                               uint64
	SpuriousLosses                         uint64
	KeyUpdates                             uint64
	ECN                                    string
	// The current path's datagram size (path MTU discovery), path changes
	// (migrations and returns), path validations that succeeded and
	// failed, and black holes detected.
	PathMTU                               int
	PathChanges, PathValidations          uint64
	PathValidationFailures, MTUBlackHoles uint64
	// The congestion controller, its pacing rate and BBR's state.
	Congestion congestion.Algorithm
	PacingRate uint64
	BBR        congestion.BBRStats
}

// counters are the counters of Stats the connection keeps itself; the
// others come from RTT, congestion and recovery state.
type counters struct {
	PacketsSent, PacketsReceived     uint64
	BytesSent, BytesReceived         uint64
	DatagramsSent, DatagramsReceived uint64
}

// Stats returns a snapshot of the counters.
func (c *Conn) Stats() Stats {
	s := Stats{
		PacketsSent: c.stats.PacketsSent, PacketsReceived: c.stats.PacketsReceived,
		BytesSent: c.stats.BytesSent, BytesReceived: c.stats.BytesReceived,
		DatagramsSent: c.stats.DatagramsSent, DatagramsReceived: c.stats.DatagramsReceived,
	}
	s.SmoothedRTT = c.rtt.SmoothedRTT()
	s.MinRTT = c.rtt.MinRTT()
	s.LatestRTT = c.rtt.LatestRTT()
	s.RTTVar = c.rtt.RTTVar()
	s.CongestionWindow = c.cc.CongestionWindow()
	s.BytesInFlight = c.cc.BytesInFlight()
	ls := c.loss.Stats()
	s.PacketsLost = ls.PacketsLost
	s.PacketsAcked = ls.PacketsAcked
	s.PTOCount = ls.PTOs
	s.SpuriousLosses = ls.SpuriousLosses
	s.KeyUpdates = c.keys1RTT.updates
	s.ECN = "off"
	if c.ecnEnabled {
		s.ECN = c.loss.ECNState().String()
	}
	c.pathStats(&s)
	c.congestionStats(&s)
	return s
}

// Trim lets go of the memory a burst of activity grew that an idle
// connection does not need: the owner calls it when nothing happened for a
// while. Everything grows back on demand.
func (c *Conn) Trim() {
	c.events.trim()
	if len(c.streams.m) == 0 {
		c.streams.m = nil
	}
	c.streams.sched.trim()
	if c.mb.held.Held() > 0 {
		// Unread stream data kept in received datagrams' buffers is
		// copied: an idle connection pins no receive buffer.
		for _, s := range c.streams.m {
			if s.hasRecv {
				s.recv.Unhold()
			}
		}
	}
	c.scratch = nil
	if len(c.ackFreq.inFlight) == 0 {
		c.ackFreq.inFlight = nil
	}
	if len(c.dgrams.out) == 0 {
		c.dgrams.out = nil
	}
	c.loss.Trim()
	c.keys1RTT.rest()
	c.letCryptoGo()
	c.releaseTLS()
}

// LossStats returns loss recovery's counters, for tests and debugging.
func (c *Conn) LossStats() recovery.Stats { return c.loss.Stats() }

// randomBytes fills b from crypto/rand; it cannot fail on the platforms we
// support (crypto/rand.Read panics rather than returning an error).
func randomBytes(b []byte) { rand.Read(b) }

// NewConnectionID returns a random connection ID of our length.
func NewConnectionID() wire.ConnectionID {
	var b [ConnIDLen]byte
	randomBytes(b[:])
	id, _ := wire.MakeConnectionID(b[:])
	return id
}
