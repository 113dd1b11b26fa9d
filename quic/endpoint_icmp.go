package quic

import (
	"errors"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// ICMP errors end a client handshake at once. A socket Dial or NewEndpoint
// opens asks udpio for the ICMP errors about the datagrams it sends; when
// one says the server cannot be reached (port, host or network unreachable,
// or prohibited) while the handshake is still running, the connection ends
// with an *UnreachableError instead of retransmitting its Initial until the
// handshake timeout. An ICMP message is not authenticated, so it is
// believed only when the datagram it quotes is a long header packet that
// names, as its Source Connection ID, a connection of ours to that very
// address: an off-path attacker would have to guess the random ID. Once the
// handshake is complete, ICMP errors are ignored (RFC 9000 does not act on
// them; a path that stops working shows in loss recovery).

// ErrUnreachable is matched (errors.Is) by an *UnreachableError.
var ErrUnreachable = errors.New("quic: peer unreachable")

// UnreachableError ends a client's handshake when the server's address
// answered with an ICMP error. errors.Is also matches the system error,
// e.g. syscall.ECONNREFUSED for a port unreachable, through Err.
type UnreachableError struct {
	Addr netip.AddrPort
	Err  *udpio.ICMPError
}

func (e *UnreachableError) Error() string {
	return "quic: " + e.Addr.String() + " unreachable: " + e.Err.Error()
}

// Unwrap returns the ICMP error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// onICMPError handles an ICMP error the socket reported (m.ICMP set; m.Buf
// holds the quoted datagram, m.Addr its destination).
func (e *Endpoint) onICMPError(m *udpio.Message) {
	if !m.ICMP.Unreachable() {
		return // packet too big and the like: not a reason to give up
	}
	inv, err := wire.ParseInvariants(m.Buf[:m.N], conn.ConnIDLen)
	if err != nil || !inv.Long {
		return
	}
	scid, err := wire.MakeConnectionID(inv.SCID)
	if err != nil {
		return
	}
	e.mu.Lock()
	c := e.conns[scid]
	e.mu.Unlock()
	if c == nil || !c.isClient {
		return
	}
	uerr := &UnreachableError{Addr: m.Addr, Err: m.ICMP}
	c.call(func(sm *conn.Conn, now time.Time) {
		if sm.HandshakeComplete() || sm.PeerAddr() != m.Addr {
			return
		}
		// Silent: the peer is not there to hear a CONNECTION_CLOSE.
		c.setCloseError(uerr)
		sm.Abandon(now)
	})
}
