package udpio

import (
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Receive path: one recvmmsg fills up to MaxBatch entries, each straight
// into the buffer of the caller's Message. With UDP_GRO the kernel may put
// many datagrams of one flow, coalesced, in one entry: the Message then
// holds them all, SegmentSize apart, and the caller parses them in place;
// nothing is copied. An entry the kernel filled with something unusable (a
// datagram longer than the buffer) comes back with N == 0 and its buffer
// untouched for the next call: buffers never move between Messages.

// entryMeta is what one received entry says, read once after the call.
type entryMeta struct {
	addr  netip.AddrPort
	local netip.Addr
	ecn   ECN
	seg   int // GRO segment size; 0 when not coalesced
	n     int // bytes received
}

type recvState struct {
	hdrs  [MaxBatch]unix.Mmsghdr
	iovs  [MaxBatch]unix.Iovec
	names [MaxBatch]unix.RawSockaddrInet6
	ctrl  [MaxBatch][recvControlSpace]byte
	meta  [MaxBatch]entryMeta

	// errPending, when ICMP errors are on: a send met a queued error, so
	// the error queue is to be read before parking.
	errPending *atomic.Bool

	// drained (readBatches): the last batch filled fewer entries than it
	// offered, so the socket's queue was empty then; the next recvmmsg
	// waits until the socket is ready. Nothing is missed: every datagram
	// queued since, and a socket error, makes it ready again.
	drained bool

	// State of the call in progress, kept here so that fn, made once, can be
	// handed to RawConn.Read without allocating a closure per call.
	fn    func(fd uintptr) bool
	n     int // entries offered to the kernel
	got   int // entries the kernel filled
	errno syscall.Errno
}

func newRecvState() *recvState {
	r := &recvState{}
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control = &r.ctrl[i][0]
	}
	r.fn = r.recvmmsg
	return r
}

// recvmmsg is the RawConn.Read callback; false means "would block, wait".
// The socket is non-blocking, so the call never waits: it goes to the
// kernel as a raw system call (see rawSyscall6).
func (r *recvState) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := rawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.n), 0, 0, 0)
		switch e {
		case 0:
			r.got, r.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if r.errPending != nil && r.errPending.Load() {
				r.got, r.errno = 0, 0
				return true // readBatch reads the error queue
			}
			return false
		default:
			r.got, r.errno = 0, e
			return true
		}
	}
}

// prepare points the entries at their buffers for a call offering n entries.
func (r *recvState) prepare(msgs []Message) {
	n := min(len(msgs), MaxBatch)
	for i := range n {
		buf := msgs[i].Buf
		if len(buf) > 0 {
			r.iovs[i].Base = &buf[0]
		} else {
			r.iovs[i].Base = nil
		}
		r.iovs[i].SetLen(len(buf))
		h := &r.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(recvControlSpace)
		h.Flags = 0
		r.hdrs[i].Len = 0
	}
	r.n = n
}

func (s *sysConn) readBatch(msgs []Message, bound netip.Addr) (int, error) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	r := s.recv
	for {
		if s.icmp && s.errPending.Swap(false) {
			if n := s.readErrQueue(msgs); n > 0 {
				return n, nil
			}
		}
		r.prepare(msgs)
		err := s.rc.Read(r.fn)
		r.unprepare()
		if err != nil {
			r.got = 0
			if n := s.readErrQueueAfter(msgs); n > 0 {
				return n, nil
			}
			return 0, err
		}
		n, err := s.takeBatch(msgs, bound)
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// readBatches is ReadBatches: the batches are read and handled inside one
// RawConn.Read, so that the readiness the poller reports between two
// batches is not lost, and a batch that emptied the queue (drained) is
// followed by a wait rather than a recvmmsg told EAGAIN.
func (s *sysConn) readBatches(msgs []Message, bound netip.Addr, handle func(int) bool) error {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	r := s.recv
	stop := false
	var failed error
	// handled hands a batch of n > 0 to handle, and reports whether to
	// return from the Read callback (handle said stop).
	handled := func(n int) bool {
		stop = !handle(n)
		return stop
	}
	fn := func(fd uintptr) bool {
		for {
			if s.icmp && s.errPending.Swap(false) {
				if n := s.readErrQueue(msgs); n > 0 && handled(n) {
					return true
				}
			}
			if r.drained {
				r.drained = false
				return false
			}
			r.prepare(msgs)
			ok := r.recvmmsg(fd)
			r.unprepare()
			if !ok {
				return false
			}
			n, err := s.takeBatch(msgs, bound)
			if err != nil {
				failed = err
				return true
			}
			// An error the call reported (an ICMP one) says nothing of
			// the queue.
			r.drained = r.errno == 0 && r.got < r.n
			if n > 0 && handled(n) {
				return true
			}
		}
	}
	for {
		// A new Read starts with the poller's readiness forgotten: its
		// first call must ask the kernel.
		r.drained = false
		err := s.rc.Read(fn)
		switch {
		case stop:
			return nil
		case failed != nil:
			return failed
		case err != nil:
			r.got = 0
			n := s.readErrQueueAfter(msgs)
			if n == 0 {
				return err
			}
			if !handle(n) {
				return nil
			}
		}
	}
}

// unprepare drops the references to the caller's buffers.
func (r *recvState) unprepare() {
	for i := range r.n {
		r.iovs[i].Base = nil
	}
}

// readErrQueueAfter reads the error queue after a poller error: a wake-up
// for the error queue alone can surface as one, and the reports are what it
// was for. It returns how many it put in msgs.
func (s *sysConn) readErrQueueAfter(msgs []Message) int {
	if !s.icmp {
		return 0
	}
	return s.readErrQueue(msgs)
}

// takeBatch reads what the last recvmmsg filled into msgs and returns how
// many entries it filled when one is usable, 0 when none is (the caller
// reads again). An error of the call that is an ICMP report is read from
// the error queue instead.
func (s *sysConn) takeBatch(msgs []Message, bound netip.Addr) (int, error) {
	r := s.recv
	if r.errno != 0 {
		if s.icmp && queuedErrno(r.errno) {
			// The pending error of an ICMP message: the report is on the
			// error queue (or was taken by a send, which then set
			// errPending).
			return s.readErrQueue(msgs), nil
		}
		return 0, os.NewSyscallError("recvmmsg", r.errno)
	}
	usable := 0
	for i := range r.got {
		if s.readMeta(i, bound) {
			fill(&msgs[i], &r.meta[i])
			usable++
		} else {
			msgs[i].N = 0
		}
	}
	if usable == 0 {
		return 0, nil
	}
	return r.got, nil
}

// readMeta reads entry i's length, flags, source and control messages, and
// reports whether the entry is usable.
func (s *sysConn) readMeta(i int, bound netip.Addr) bool {
	r := s.recv
	h := &r.hdrs[i].Hdr
	e := &r.meta[i]
	*e = entryMeta{n: int(r.hdrs[i].Len)}
	if h.Flags&unix.MSG_TRUNC != 0 {
		// Longer than the buffer: what was kept is not the datagram.
		s.truncated.Add(1)
		return false
	}
	e.addr = getSockaddr(&r.names[i])
	var m recvMeta
	clen := min(int(h.Controllen), recvControlSpace)
	if err := parseControl(r.ctrl[i][:clen], &m); err != nil || h.Flags&unix.MSG_CTRUNC != 0 {
		s.controlErrors.Add(1)
	}
	e.ecn = ECN(m.tos & 0b11)
	if m.segSize > 0 && m.segSize < e.n {
		e.seg = m.segSize
	}
	e.local = bound
	if m.local.IsValid() {
		e.local = m.local
	}
	return e.n > 0
}

func fill(m *Message, e *entryMeta) {
	m.N = e.n
	m.Addr = e.addr
	m.Local = e.local
	m.ECN = e.ecn
	m.SegmentSize = e.seg
	m.ICMP = nil
}
