package h3

import (
	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/priority"
	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic"
)

// Response priorities (RFC 9218), the server's side (the client's is in
// priority_client.go): each request stream is sent at the
// priority the client asked for, by its Priority header (§5) or by a
// PRIORITY_UPDATE frame on its control stream (§7.2), the defaults (§4)
// otherwise; a handler's Priority response header changes the parameters
// it names (§8). Package quic's scheduler does the rest: more urgent
// streams first, non-incremental ones one at a time in stream ID order,
// incremental ones in turn.

// maxPendingPriorityUpdates bounds the PRIORITY_UPDATE frames kept for
// request streams not open yet (RFC 9218 §7.2: "Servers SHOULD buffer the
// most recently received PRIORITY_UPDATE frame and apply it once the
// referenced stream is opened ... bounded by local implementation
// policy"): one per stream, and past this many, later ones for other
// streams are ignored.
const maxPendingPriorityUpdates = 64

// openStream is a request stream the server serves, as priority signals
// find it.
type openStream struct {
	str  *quic.Stream
	prio priority.Priority // the priority str is sent at
	// updated is set once a PRIORITY_UPDATE applied: "the most recently
	// received PRIORITY_UPDATE frame can be considered as the most
	// up-to-date information that overrides any other signal" (§7), the
	// request's Priority header included.
	updated bool
}

// setPriority sends e's stream at p from now on. sc.mu is held, so that
// signals apply in the order they were taken.
func (e *openStream) setPriority(p priority.Priority) {
	e.prio = p
	e.str.SetPriority(p.Urgency, p.Incremental)
}

// openRequestStreamLocked registers a request stream just accepted and gives it
// its first priority: the last PRIORITY_UPDATE received for it, else
// the defaults for now (§4.1, §4.2: urgency 3, not incremental; package
// quic's own default is incremental). sc.mu is held.
func (sc *serverConn) openRequestStreamLocked(str *quic.Stream) {
	id := str.ID()
	e := openStream{str: str}
	p, ok := sc.pendingPriority[id]
	if ok {
		delete(sc.pendingPriority, id)
		e.updated = true
	} else {
		p = priority.Default
	}
	e.setPriority(p)
	if sc.openStreams == nil {
		sc.openStreams = make(map[uint64]openStream)
	}
	sc.openStreams[id] = e
}

// closeRequestStream forgets a request stream once its response is over.
func (sc *serverConn) closeRequestStream(id uint64) {
	sc.mu.Lock()
	delete(sc.openStreams, id)
	sc.mu.Unlock()
}

// requestPriority applies the request's Priority header (§5), unless a
// PRIORITY_UPDATE came first. A malformed value counts as absent: the
// defaults stay. Several field lines are one Dictionary (RFC 8941 §3.2),
// in which a later member replaces an earlier one of the same key.
func (sc *serverConn) requestPriority(id uint64, values []string) {
	p, ok := priority.ParseLines(values, priority.Default)
	if !ok {
		return
	}
	sc.mu.Lock()
	if e, found := sc.openStreams[id]; found && !e.updated {
		e.setPriority(p)
		sc.openStreams[id] = e
	}
	sc.mu.Unlock()
}

// responsePriority applies the Priority header a handler set on its
// response: the parameters it names replace the client's, the others stay
// (§8: "The absence of a priority parameter in an HTTP response indicates
// the server's disinterest in changing the client-provided value"). A
// later PRIORITY_UPDATE still overrides it.
func (sc *serverConn) responsePriority(id uint64, values []string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, found := sc.openStreams[id]
	if !found {
		return
	}
	p, ok := priority.ParseLines(values, e.prio)
	if !ok {
		return
	}
	e.setPriority(p)
	sc.openStreams[id] = e
}

// priorityUpdate applies a PRIORITY_UPDATE frame for request stream id
// (§7.2), read from the client's control stream, which has checked that
// id names a client-initiated bidirectional stream. The frame carries the
// complete set of parameters: those it omits take their defaults (§7). A
// frame for a stream whose response is over, or at or above a GOAWAY we
// sent, is ignored; one for a stream not open yet is kept, bounded. The errors it returns are connection
// errors:
//
//   - a stream ID beyond the limit we advertised (§7.2: "this SHOULD be
//     treated as a connection error of type H3_ID_ERROR"): the client
//     cannot have opened that stream, nor may it ever;
//   - a field value that is not a Dictionary (§7: "Failure to parse the
//     Priority Field Value MAY be treated as a connection error ... of
//     type H3_GENERAL_PROTOCOL_ERROR"). This frame is hop-by-hop and
//     written by the client's HTTP/3 layer itself, not copied from an
//     application's header, so a bad one is a broken peer; a malformed
//     Priority header, which may come from anywhere, stays ignored (§4).
func (sc *serverConn) priorityUpdate(id uint64, value []byte) error {
	if seq := id >> 2; seq >= sc.peerStreamLimit {
		// The limit only grows: ask quic again only past the last answer.
		sc.peerStreamLimit = quichooks.PeerBidiStreamLimit(sc.qc)
		if seq >= sc.peerStreamLimit {
			return &frame.Error{Code: frame.ErrCodeIDError, Reason: "PRIORITY_UPDATE for a stream beyond the stream limit"}
		}
	}
	p, ok := priority.Parse(value, priority.Default)
	if !ok {
		return &frame.Error{Code: frame.ErrCodeGeneralProtocolError, Reason: "PRIORITY_UPDATE with a malformed Priority Field Value"}
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, found := sc.openStreams[id]; found {
		e.updated = true
		e.setPriority(p)
		sc.openStreams[id] = e
		return nil
	}
	if id < sc.nextStream {
		return nil // accepted before, and over
	}
	if sc.goAwaySent && id >= sc.goAwayID {
		return nil // will be refused (RFC 9114 §5.2)
	}
	if _, found := sc.pendingPriority[id]; !found && len(sc.pendingPriority) >= maxPendingPriorityUpdates {
		return nil
	}
	if sc.pendingPriority == nil {
		sc.pendingPriority = make(map[uint64]priority.Priority)
	}
	sc.pendingPriority[id] = p
	return nil
}
