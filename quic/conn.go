package quic

import (
	"context"
	"crypto/rand"
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Conn is a QUIC connection.
//
// Its protocol state is a sans-I/O machine: handleDatagram takes a received
// datagram and the time, appendBurst writes what is due into a buffer
// the caller owns, and deadline says when to call handleTimer. It never
// reads a clock, touches a socket or starts a goroutine. One goroutine (the
// driver, conn_driver.go) owns it; tests drive it directly under synthetic
// time. Application goroutines reach it only through Stream buffers and the
// small set of fields under mu, and wake the driver.
type Conn struct {
	config   *Config
	isClient bool
	version  wire.Version
	epoch    time.Time // zero point of the monotonic times below
	tls      *tls13.Conn
	tracer   *Tracer

	// Packet number spaces, indexed by recovery.Space.
	spaces [3]pnSpace
	// 1-RTT keys beyond the current generation, for key updates (RFC 9001 §6).
	keys1RTT keyUpdateState
	// 0-RTT keys, client side write / server side read.
	keys0RTT *protect.Keys

	rtt  congestion.RTTStats
	cc   congestion.Controller
	loss recovery.Recovery

	path pathState
	ids  connIDState
	// ecnEnabled: datagrams may be marked ECT(0), while ECN validation
	// allows (RFC 9000 §13.4.2): not with Config.DisableECN, nor on a
	// socket that cannot set the mark.
	ecnEnabled bool

	peerParams    wire.TransportParameters
	peerParamsSet bool

	handshakeComplete   bool // TLS finished (RFC 9001 §4.1.1)
	handshakeConfirmed  bool // RFC 9001 §4.1.2
	handshakeDoneQueued bool
	retrySCID           *wire.ConnectionID
	retryToken          []byte // client: token from a Retry, sent in later Initials
	originalDCID        wire.ConnectionID

	flow    connFlow
	streams streamsState
	dgrams  datagramState

	idle    idleState
	closing closeState

	// Pending control frames, retransmitted as values, not packets.
	pendingPing bool

	// ackRanges is scratch space for parsing ACK frames; resolved receives
	// what loss recovery decided about sent packets.
	ackRanges []wire.AckRange
	resolved  recovery.Resolved
	// PTO probes to send (RFC 9002 §6.2.4), set by the loss detection
	// timer.
	probeSpace recovery.Space
	probes     int
	// closeFrameToSend, while set, is the only frame appendPacket writes.
	closeFrameToSend *wire.ConnectionCloseFrame

	// wake is signalled (without blocking) by application goroutines and
	// the endpoint when the driver has something to do.
	wake chan struct{}
	// inbox holds datagrams the endpoint received for this connection.
	inboxMu sync.Mutex
	inbox   []*datagram
	calls   []func(time.Time) // to run on the driver's goroutine

	endpoint *Endpoint
	// handshakeDone is closed when the handshake completes or fails.
	handshakeDone chan struct{}
	// closed is closed when the connection starts to end (shared.closeErr
	// is set); done when it has fully ended and the driver stopped.
	closed chan struct{}
	done   chan struct{}
	ctx    context.Context // canceled when the connection closes
	stop   context.CancelFunc

	stats driverCounters // owned by the driver; published to shared.stats

	// mu guards the state shared with application goroutines: the fields
	// of shared, and the stream map, accept queues and send queue in
	// streams. Never held while a Stream's own lock is taken.
	mu     sync.Mutex
	shared struct {
		stats      Stats
		remoteAddr netip.AddrPort
		closeErr   error // why the connection ended, once it has
	}
}

// pnSpace is one packet number space (RFC 9000 §12.3) and its encryption
// level: keys, received packets to acknowledge, and the CRYPTO stream.
type pnSpace struct {
	readKeys, writeKeys *protect.Keys
	received            recovery.ReceivedTracker
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

// cryptoStream returns the space's CRYPTO streams, allocating them on
// first use.
func (sp *pnSpace) cryptoStream() *cryptoStreams {
	if sp.crypto == nil {
		sp.crypto = new(cryptoStreams)
	}
	return sp.crypto
}

// cryptoPending reports whether CRYPTO data waits to be sent.
func (sp *pnSpace) cryptoPending() bool {
	return sp.crypto != nil && sp.crypto.send.HasData(1<<62)
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
	// SpuriousLosses counts packets declared lost and acknowledged later:
	// reordering, which loss detection adapts to (RFC 9002 §6.1).
	SpuriousLosses uint64
	KeyUpdates     uint64
	// ECN is the validation state of the ECT(0) marks we send (RFC 9000
	// §13.4.2): "testing" (marking, not yet confirmed), "unknown"
	// (testing over, unmarked until an acknowledgment confirms),
	// "capable" (marking; the peer's ECN counts are validated and a CE
	// count is a congestion signal), "failed" (marks were lost, cleared
	// or miscounted; no longer marking), or "off" (Config.DisableECN, or
	// a socket that cannot mark).
	ECN string
}

// newConn creates a connection. For a client, dcid is the random
// Destination Connection ID of its first Initial (RFC 9000 §7.2) and scid
// its own; for a server, dcid is what the client chose (it derives the
// Initial keys) and scid the server's new ID.
func newConn(now time.Time, config *Config, isClient bool, version wire.Version, dcid, scid wire.ConnectionID, peer netip.AddrPort, ep *Endpoint) (*Conn, error) {
	return newConnRetry(now, config, isClient, version, dcid, scid, peer, ep, nil)
}

// newConnRetry is newConn for a server connection whose client came back
// with a valid Retry token (retry not nil): dcid is then the Retry's Source
// Connection ID, which the client's Initial keys now come from.
func newConnRetry(now time.Time, config *Config, isClient bool, version wire.Version, dcid, scid wire.ConnectionID, peer netip.AddrPort, ep *Endpoint, retry *retryInfo) (*Conn, error) {
	c := &Conn{
		config:        config,
		isClient:      isClient,
		version:       version,
		epoch:         now,
		endpoint:      ep,
		wake:          make(chan struct{}, 1),
		handshakeDone: make(chan struct{}),
		closed:        make(chan struct{}),
		done:          make(chan struct{}),
		originalDCID:  dcid,
	}
	c.ctx, c.stop = context.WithCancel(context.Background())
	if retry != nil {
		// RFC 9000 §7.3: the server echoes the client's first Destination
		// Connection ID and the Retry's Source Connection ID in its
		// transport parameters (buildLocalParams).
		c.originalDCID = retry.odcid
		rscid := retry.retrySCID
		c.retrySCID = &rscid
	}
	if config.Tracer != nil {
		c.tracer = config.Tracer(isClient, c.originalDCID.Bytes())
	}
	for i := range c.spaces {
		c.spaces[i].largestRecv = -1
	}
	cc, err := config.newController()
	if err != nil {
		return nil, err
	}
	c.cc = cc
	c.rtt.SetMaxAckDelay(wire.DefaultMaxAckDelay)
	c.loss.Init(&c.rtt, c.cc)
	c.ecnEnabled = !config.DisableECN && (ep == nil || ep.ecnCapable)
	c.path.init(peer, isClient)
	if retry != nil {
		// RFC 9000 §8.1.2: a valid Retry token validates the client's
		// address; no amplification limit applies.
		c.path.addressValidated = true
	}
	c.idle.init(config, c.mono(now))
	c.idle.pto = func() time.Duration { return c.rtt.PTO(true) }

	// Initial keys come from the client's first Destination Connection ID
	// (RFC 9001 §5.2).
	if err := c.installInitialKeys(dcid); err != nil {
		return nil, err
	}
	c.ids.init(c, scid, dcid)
	c.flow.init(c, config)
	c.streams.init(c, config)
	c.dgrams.init(config)
	if err := c.startTLS(c.buildLocalParams(scid)); err != nil {
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
	return nil
}

// mono converts a wall-clock reading into the connection's monotonic time.
func (c *Conn) mono(t time.Time) time.Duration { return t.Sub(c.epoch) }

// wall converts a monotonic time back.
func (c *Conn) wall(d time.Duration) time.Time { return c.epoch.Add(d) }

// signal wakes the driver without blocking.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// peerRole is who the peer is.
func (c *Conn) peerRole() wire.Role {
	if c.isClient {
		return wire.RoleServer
	}
	return wire.RoleClient
}

// Context is canceled when the connection closes.
func (c *Conn) Context() context.Context { return c.ctx }

// RemoteAddr is the peer's address on the current path.
func (c *Conn) RemoteAddr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shared.remoteAddr
}

// LocalAddr is the local address of the endpoint's socket.
func (c *Conn) LocalAddr() netip.AddrPort {
	if c.endpoint == nil {
		return netip.AddrPort{}
	}
	return c.endpoint.LocalAddr()
}

// Stats returns a snapshot of the connection's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shared.stats
}

// driverCounters are the counters of Stats that the driver keeps itself;
// the others come from RTT, congestion and recovery state when published.
type driverCounters struct {
	PacketsSent, PacketsReceived     uint64
	BytesSent, BytesReceived         uint64
	DatagramsSent, DatagramsReceived uint64
}

// publishStats copies the counters owned by the driver to where the
// application can read them.
func (c *Conn) publishStats() {
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
	c.mu.Lock()
	c.shared.stats = s
	c.shared.remoteAddr = c.path.peer
	c.mu.Unlock()
}

// randomBytes fills b from crypto/rand; it cannot fail on the platforms we
// support (crypto/rand.Read panics rather than returning an error).
func randomBytes(b []byte) { rand.Read(b) }

// newConnectionID returns a random connection ID of our length.
func newConnectionID() wire.ConnectionID {
	var b [connIDLen]byte
	randomBytes(b[:])
	id, _ := wire.MakeConnectionID(b[:])
	return id
}
