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
func (r *recvState) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.n), 0, 0, 0)
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
		// Drop the references to the caller's buffers.
		for i := range r.n {
			r.iovs[i].Base = nil
		}
		if err != nil {
			r.got = 0
			if s.icmp {
				// A wake-up for the error queue alone can surface here
				// as a poller error: the reports are what it was for.
				if n := s.readErrQueue(msgs); n > 0 {
					return n, nil
				}
			}
			return 0, err
		}
		if r.errno != 0 {
			if s.icmp && queuedErrno(r.errno) {
				// The pending error of an ICMP message: the report is on
				// the error queue (or was taken by a send, which then set
				// errPending).
				if n := s.readErrQueue(msgs); n > 0 {
					return n, nil
				}
				continue
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
		if usable > 0 {
			return r.got, nil
		}
	}
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
