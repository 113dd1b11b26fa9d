package conn

import (
	"sync/atomic"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// Mailbox is all application goroutines share with a connection besides
// the shared parts of its streams. It holds only atomics: streams with
// work for the connection (a lock-free list), the bytes the application
// consumed (connection flow control), stream opening, and the count of
// received datagram slices the streams hold. An application
// goroutine leaves work here and calls Wake; the owner's goroutine takes it
// in ProcessMailbox. The connection's own state is never touched.
//
// Wake signals the owner only when work appears where there was none (the
// pending flag goes from false to true), so a stream of writes costs one
// wake-up per batch the owner takes, not one per write.
type Mailbox struct {
	pending atomic.Bool
	wake    func()
	// sendWork is set when an application goroutine writes to a stream or
	// ends its sending part: data is best sent together with what other
	// goroutines are writing (TakeSendWork).
	sendWork atomic.Bool

	// streams is a stack of streams with work, linked through Stream.next:
	// pushed one at a time by application goroutines (a stream at most
	// once, guarded by its flagged bit), taken whole by the owner.
	streams atomic.Pointer[Stream]

	// consumed counts the bytes of stream data the application consumed;
	// once it reaches maxDataAt a MAX_DATA update is due (RFC 9000 §4.1).
	consumed  atomic.Uint64
	maxDataAt atomic.Uint64

	// held counts the slices of received datagrams the streams' receive
	// buffers hold rather than copy (streambuf.HoldBudget): the connection
	// takes, the application's reads give back.
	held streambuf.HoldBudget

	// Stream opening (RFC 9000 §4.6): the next sequence number of each
	// kind the application takes, the peer's limit the connection
	// publishes, and whether an OpenStream found the limit reached.
	nextLocal   [2]atomic.Uint64
	peerMax     [2]atomic.Uint64
	openBlocked [2]atomic.Bool

	// Immutable: what a stream the application opens starts with.
	isClient     bool
	streamWindow uint64
	sendCushion  uint64 // what a stream's writer may buffer beyond the peer's credit
	// alloc, when set (SetStreamAlloc), makes the memory of each new
	// stream, its owner's handle set.
	alloc func() *Stream
}

// SetStreamAlloc has every stream made in memory alloc returns, a zero
// Stream with its owner set: the owner can keep its handle and the stream
// in one allocation. It must be set before any stream exists; alloc is
// called from the connection's goroutine and from OpenStream's callers.
func (m *Mailbox) SetStreamAlloc(alloc func() *Stream) { m.alloc = alloc }

func newMailbox(isClient bool, config *Config) *Mailbox {
	return &Mailbox{isClient: isClient, streamWindow: config.streamWindow(), sendCushion: config.sendCushion(), wake: func() {}}
}

// SetWake sets what Wake calls to signal the owner (a non-blocking send on
// a channel of capacity 1, say). Call it before any application goroutine
// sees the Mailbox.
func (m *Mailbox) SetWake(f func()) { m.wake = f }

// Wake tells the owner that work is pending, signalling it if none was.
func (m *Mailbox) Wake() {
	if !m.pending.Swap(true) {
		m.wake()
	}
}

// Pending reports whether work waits for the owner.
func (m *Mailbox) Pending() bool { return m.pending.Load() }

// TakePending clears the pending flag and reports whether it was set. The
// owner calls it before taking the work: work left after that signals
// again.
func (m *Mailbox) TakePending() bool { return m.pending.Swap(false) }

// TakeSendWork reports whether an application goroutine wrote to a stream
// or ended its sending part since the last call, and clears it. An owner
// that finds some can let the other runnable goroutines write theirs
// first, so that one turn sends many messages in full datagrams and one
// system call, rather than a turn and a datagram each (the way TCP corks
// small writes while earlier ones are in flight, with no timer).
func (m *Mailbox) TakeSendWork() bool { return m.sendWork.Load() && m.sendWork.Swap(false) }

// push adds s to the streams with work and wakes the owner, unless s is
// already there.
func (m *Mailbox) push(s *Stream) {
	if s.flagged.Swap(true) {
		return
	}
	for {
		head := m.streams.Load()
		s.next = head
		if m.streams.CompareAndSwap(head, s) {
			break
		}
	}
	m.Wake()
}

// consume counts n bytes the application consumed, waking the owner when
// a MAX_DATA update becomes due.
func (m *Mailbox) consume(n uint64) {
	if n == 0 {
		return
	}
	if m.consumed.Add(n) >= m.maxDataAt.Load() {
		m.Wake()
	}
}

// OpenStream opens a bidirectional stream, or a unidirectional one, if the
// peer's limit allows (RFC 9000 §4.6); false when it does not yet. owner
// is the caller's handle for it (Stream.Owner); nil keeps the one the
// stream's alloc set.
func (m *Mailbox) OpenStream(uni bool, owner any) (*Stream, bool) {
	kind := kindBidi
	if uni {
		kind = kindUni
	}
	for {
		seq := m.nextLocal[kind].Load()
		if seq >= m.peerMax[kind].Load() {
			return nil, false
		}
		if m.nextLocal[kind].CompareAndSwap(seq, seq+1) {
			s := newStream(m, streamID(seq, !m.isClient, uni), true, !uni)
			if owner != nil {
				s.owner = owner
			}
			if !uni {
				s.recv.Init(m.streamWindow)
			}
			// The connection registers it when it takes it from here.
			m.push(s)
			return s, true
		}
	}
}

// OpenBlocked tells the connection that an OpenStream found the limit
// reached: it says so to the peer with STREAMS_BLOCKED (RFC 9000 §4.6).
func (m *Mailbox) OpenBlocked(uni bool) {
	kind := kindBidi
	if uni {
		kind = kindUni
	}
	if !m.openBlocked[kind].Swap(true) {
		m.Wake()
	}
}
