package conn

import (
	"net/netip"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// pathState is the network path of a connection: the peer's address,
// address validation with its anti-amplification limit (RFC 9000 §8),
// path validation with PATH_CHALLENGE/PATH_RESPONSE (§8.2), and the peer's
// address changing under a NAT rebinding (§9.3). The datagram size is
// pmtu.go's.
type pathState struct {
	peer     netip.AddrPort
	isClient bool

	// addressValidated: the peer proved it receives at its address. Until
	// then a server sends at most three times what it received.
	addressValidated bool
	bytesReceived    uint64
	bytesSent        uint64

	// Path validation: a challenge we sent and await, responses we owe.
	challenge        [8]byte
	challengePending bool // a PATH_CHALLENGE must go out
	challengeWait    bool // a PATH_CHALLENGE is outstanding
	responses        [][8]byte
}

func (p *pathState) init(peer netip.AddrPort, isClient bool) {
	p.peer = peer
	p.isClient = isClient
	// A client validated the server's address by choosing it.
	p.addressValidated = isClient
}

// amplificationAllowance is how many more bytes we may send before the
// peer's address is validated (RFC 9000 §8.1).
func (p *pathState) amplificationAllowance() int {
	if p.addressValidated {
		return 1 << 30
	}
	limit := 3 * p.bytesReceived
	if p.bytesSent >= limit {
		return 0
	}
	return int(min(limit-p.bytesSent, 1<<30))
}

func (p *pathState) onDatagramReceived(n int) { p.bytesReceived += uint64(n) }
func (p *pathState) onDatagramSent(n int)     { p.bytesSent += uint64(n) }

// onPacketReceived follows the peer's address. A server that sees its
// peer's address change on the packet with the largest number so far
// switches to the new address and validates it (RFC 9000 §9.3); the client
// never follows a server's address change (§9.6 aside). It reports
// whether the address changed.
func (p *pathState) onPacketReceived(from netip.AddrPort, largest bool) bool {
	if !from.IsValid() || from == p.peer || p.isClient || !largest {
		return false
	}
	p.peer = from
	p.startValidation()
	return true
}

// startValidation sends a fresh PATH_CHALLENGE.
func (p *pathState) startValidation() {
	randomBytes(p.challenge[:])
	p.challengePending = true
	p.challengeWait = true
}

// onPathChallenge queues the PATH_RESPONSE a challenge asks for (§8.2.2).
// At most a few are kept: a peer flooding challenges gets answers to the
// latest only.
func (p *pathState) onPathChallenge(data [8]byte) {
	if len(p.responses) >= 4 {
		copy(p.responses, p.responses[1:])
		p.responses = p.responses[:3]
	}
	p.responses = append(p.responses, data)
}

// onPathResponse completes validation when the data matches (§8.2.3).
func (p *pathState) onPathResponse(data [8]byte) {
	if p.challengeWait && data == p.challenge {
		p.challengeWait = false
		p.addressValidated = true
	}
}

func (p *pathState) framesPending() bool {
	return p.challengePending || len(p.responses) > 0
}

// appendFrames appends PATH_RESPONSE and PATH_CHALLENGE frames.
func (p *pathState) appendFrames(f *frameWriter) {
	for len(p.responses) > 0 && f.room() >= 9 {
		fr := wire.PathResponseFrame{Data: p.responses[0]}
		f.buf = fr.Append(f.buf)
		f.record(sentPathResponse, 0, 0, 0, false)
		p.responses = p.responses[1:]
	}
	if p.challengePending && f.room() >= 9 {
		fr := wire.PathChallengeFrame{Data: p.challenge}
		f.buf = fr.Append(f.buf)
		f.record(sentPathChallenge, 0, 0, 0, false)
		p.challengePending = false
	}
}
