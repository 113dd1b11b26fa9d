package h3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/h3/internal/priority"
	"github.com/skiffnet/skiff/qpack"
)

// Request priorities on the client (RFC 9218): what a request asks the
// server for, by its Priority header (§5) or a RequestPriority in its
// context, changed later by PRIORITY_UPDATE frames (§6, §7.2); and the
// order in which the client's own connection sends request bodies (§9).

// Priority is an RFC 9218 priority (§4): an urgency from 0 (most urgent)
// to 7, and whether the response is used incrementally, as its parts
// arrive. The zero Priority is urgency 0, the most urgent: the default is
// DefaultPriority. An urgency above 7 counts as 7.
type Priority struct {
	Urgency     uint8
	Incremental bool
}

// DefaultPriority is the priority of a request that asks for none:
// urgency 3, not incremental (§4.1, §4.2).
var DefaultPriority = Priority{Urgency: 3}

// priorityValues are the Priority field values of the sixteen
// priorities, by 2×urgency+incremental: made once, not per request.
var priorityValues = [16]string{
	"u=0", "u=0, i", "u=1", "u=1, i", "u=2", "u=2, i", "u=3", "u=3, i",
	"u=4", "u=4, i", "u=5", "u=5, i", "u=6", "u=6, i", "u=7", "u=7, i",
}

// String is p as a Priority field value (§5), both parameters named:
// "u=1, i", "u=3".
func (p Priority) String() string {
	i := int(min(p.Urgency, 7)) << 1
	if p.Incremental {
		i++
	}
	return priorityValues[i]
}

func (p Priority) clamped() priority.Priority {
	return priority.Priority{Urgency: min(p.Urgency, 7), Incremental: p.Incremental}
}

// RequestPriority is the priority of the requests whose context carries
// it (WithPriority). Over HTTP/3 it can be changed at any time: before a
// request is sent, the request goes at the new priority; while it is in
// flight, from the moment its stream is open — before its response header
// arrives too — the server is sent a PRIORITY_UPDATE (§7.2); after its
// response body is read to its end or closed, the change concerns it no
// more. (Over TCP a request carries the priority of the moment it starts,
// see WithPriority.) Several requests may share one RequestPriority: a
// change then applies to each of them. Its methods may be called from any
// goroutine.
type RequestPriority struct {
	mu sync.Mutex
	p  priority.Priority
	// inFlight are the requests made with it whose stream is open and
	// whose response is not over.
	inFlight []*clientStream
	buf      []byte // PRIORITY_UPDATE frames, built under mu
}

// NewRequestPriority returns a RequestPriority at p.
func NewRequestPriority(p Priority) *RequestPriority {
	return &RequestPriority{p: p.clamped()}
}

// Priority returns rp's current priority.
func (rp *RequestPriority) Priority() Priority {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return Priority(rp.p)
}

// Set changes rp's priority to p. For each request in flight with rp,
// the client sends a PRIORITY_UPDATE on its control stream carrying p
// (a server is free to ignore it, §10), and sends the rest of the
// request's body at p's urgency. A p equal to the current priority sends
// nothing.
func (rp *RequestPriority) Set(p Priority) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if q := p.clamped(); q != rp.p {
		rp.p = q
		for _, cs := range rp.inFlight {
			rp.sendUpdateLocked(cs)
		}
	}
}

// sendUpdateLocked tells cs's server rp's priority, and schedules cs's
// request body by it. rp.mu is held, so that the frames of concurrent
// Sets go out in the order they took effect: the server keeps the last.
func (rp *RequestPriority) sendUpdateLocked(cs *clientStream) {
	cs.scheduleUpload(rp.p.Urgency)
	rp.buf = frame.AppendPriorityUpdate(rp.buf[:0], frame.TypePriorityUpdate, cs.str.ID(), []byte(Priority(rp.p).String()))
	// An error means the connection is ending, and with it the request.
	cs.cc.c.writeControl(rp.buf)
}

// done forgets cs, whose response is over.
func (rp *RequestPriority) done(cs *clientStream) {
	rp.mu.Lock()
	if i := slices.Index(rp.inFlight, cs); i >= 0 {
		rp.inFlight = slices.Delete(rp.inFlight, i, i+1)
	}
	rp.mu.Unlock()
}

// priorityKey is the context key of a RequestPriority.
type priorityKey struct{}

// WithPriority returns a copy of ctx that carries rp: a request made with
// it asks the HTTP/3 server for rp's priority, which rp.Set changes.
//
//	rp := h3.NewRequestPriority(h3.Priority{Urgency: 1, Incremental: true})
//	req, _ := http.NewRequestWithContext(h3.WithPriority(ctx, rp), "GET", url, nil)
//
// A request without a Priority header of its own gets one with rp's
// priority (none when it is DefaultPriority, which a server assumes). A
// request with its own Priority header sends it as it is, an end-to-end
// signal (§5), and, when it says otherwise than rp, a PRIORITY_UPDATE
// with rp's priority, a hop-by-hop one (§7) that the server takes over
// the header, being the most recent (§7.2). Over TCP (HTTP/1.1 and
// HTTP/2, through net/http) a request without a Priority header gets one
// with rp's priority as it is when the request starts, but later changes
// are not sent: net/http has no way to send HTTP/2's PRIORITY_UPDATE.
func WithPriority(ctx context.Context, rp *RequestPriority) context.Context {
	return context.WithValue(ctx, priorityKey{}, rp)
}

// startPriority settles the priority cs's request is sent at, once its
// stream is open and before its header section is encoded: from its
// context's RequestPriority, added to fields as a Priority header when
// the request has none, and from its own Priority header. The request
// body is then scheduled at that urgency on our connection (RFC 9218 §9:
// "A client MAY use priority values to make local processing or
// scheduling choices about the requests it initiates"). A request without
// a RequestPriority or a body costs one context lookup.
func (cs *clientStream) startPriority(fields []qpack.HeaderField) []qpack.HeaderField {
	rp, _ := cs.req.Context().Value(priorityKey{}).(*RequestPriority)
	if rp == nil && !cs.hasBody() {
		return fields // its header, if any, is in fields already
	}
	values := cs.req.Header["Priority"]
	hasHeader := len(values) > 0
	// A malformed header is ignored whole, as the server will (§4).
	asked, _ := priority.ParseLines(values, priority.Default)
	if rp == nil {
		if hasHeader {
			cs.scheduleUpload(asked.Urgency)
		}
		return fields
	}
	cs.prio = rp
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.inFlight = append(rp.inFlight, cs)
	switch {
	case !hasHeader && rp.p != priority.Default:
		fields = append(fields, qpack.HeaderField{Name: "priority", Value: Priority(rp.p).String()})
	case hasHeader && rp.p != asked:
		// The frame may reach the server before the stream: it keeps it
		// for the stream, over the header (§7.2).
		rp.sendUpdateLocked(cs)
		return fields
	}
	cs.scheduleUpload(rp.p.Urgency)
	return fields
}

// scheduleUpload has our connection send cs's request body at urgency
// (RFC 9218 §9), shared in turn with the other bodies of that urgency. The
// incremental parameter is left out: it says how the client uses the
// response (§4.2), and nothing in RFC 9218 says how a server consumes a
// request's content; sent one at a time, a large body would hold up the
// header sections of every later request of its urgency. A request
// without a body keeps package quic's default (urgency 3, shared): its
// urgency is its response's, and at 7 its header section would wait for
// the bodies of every more urgent request.
func (cs *clientStream) scheduleUpload(urgency uint8) {
	if cs.hasBody() {
		cs.str.SetPriority(urgency, true)
	}
}

// hasBody reports whether cs's request has a body to send.
func (cs *clientStream) hasBody() bool {
	body := cs.req.Body
	return body != nil && body != http.NoBody
}

// withTCPPriority returns req with a Priority header (RFC 9218 §5, which
// applies to every HTTP version) carrying its context's RequestPriority,
// for net/http to send over TCP, when it has one, it is not the default
// and req has no Priority header of its own; otherwise req itself. The
// copy is shallow but for its Header, as net/http's own are.
func withTCPPriority(req *http.Request) *http.Request {
	rp, _ := req.Context().Value(priorityKey{}).(*RequestPriority)
	if rp == nil || len(req.Header["Priority"]) > 0 {
		return req
	}
	p := rp.Priority()
	if p == DefaultPriority {
		return req
	}
	r2 := *req
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header, 1)
	}
	r2.Header["Priority"] = []string{p.String()}
	return &r2
}

// ErrNotReprioritizable is Reprioritize's error for a response that is not
// an HTTP/3 response of this package's client still being received.
var ErrNotReprioritizable = errors.New("h3: response is not an HTTP/3 response still being received")

// Reprioritize asks the server to send the rest of resp at the priority
// value, a Priority field value such as "u=1, i" (RFC 9218 §6): the
// client sends a PRIORITY_UPDATE frame for resp's stream on its control
// stream (§7.2), and sends the rest of the request's body, if any, at the
// new urgency. The value is the complete set of parameters: those it
// omits take their defaults, whatever the request's Priority header said.
// A server is free to ignore it. To change a request's priority before
// its response arrives, make it with a RequestPriority (WithPriority).
//
// resp must come from this package's HTTP/3 client (Transport, or a
// Client whose Transport it is and that set no Timeout, which wraps the
// Body), with its Body as returned and not yet read to its end or closed;
// otherwise Reprioritize returns ErrNotReprioritizable. A value that is
// not a valid Dictionary is refused (a server may treat it as a
// connection error, §7).
func Reprioritize(resp *http.Response, value string) error {
	body, ok := resp.Body.(*responseBody)
	if !ok || body.done.Load() || body.closed.Load() {
		return ErrNotReprioritizable
	}
	p, ok := priority.Parse(value, priority.Default)
	if !ok {
		return fmt.Errorf("h3: invalid Priority field value %q", value)
	}
	body.cs.scheduleUpload(p.Urgency)
	return body.cs.cc.c.writeControl(frame.AppendPriorityUpdate(nil, frame.TypePriorityUpdate, body.cs.str.ID(), []byte(value)))
}
