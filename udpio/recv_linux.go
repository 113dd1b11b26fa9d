package udpio

import (
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Receive path: one recvmmsg fills up to MaxBatch entries.
//
// Without GRO each entry reads straight into a caller's Message buffer. With
// GRO an entry may hold up to 64 coalesced datagrams (one 64 KiB super
// datagram), more than a caller's buffer holds, so entries read into buffers
// the Conn owns and the segments are copied out one Message each. Segments
// that do not fit in this call's msgs wait for the next call.

const (
	groEntries = 16      // recvmmsg entries per call with GRO: 1 MiB of buffers
	groBufSize = 1 << 16 // a coalesced datagram never exceeds the IP length limit
)

// entryMeta is what one received entry says, read once after the call.
type entryMeta struct {
	addr  netip.AddrPort
	local netip.Addr
	ecn   ECN
	seg   int // GRO segment size; 0 when not coalesced
	n     int // bytes received
	drop  bool
}

type recvState struct {
	hdrs  [MaxBatch]unix.Mmsghdr
	iovs  [MaxBatch]unix.Iovec
	names [MaxBatch]unix.RawSockaddrInet6
	ctrl  [MaxBatch][recvControlSpace]byte
	meta  [MaxBatch]entryMeta

	gro     bool
	groBufs [][]byte
	// errPending, when ICMP errors are on: a send met a queued error, so
	// the error queue is to be read before parking.
	errPending *atomic.Bool

	// State of the call in progress, kept here so that fn, made once, can be
	// handed to RawConn.Read without allocating a closure per call.
	fn    func(fd uintptr) bool
	n     int // entries offered to the kernel
	got   int // entries the kernel filled
	errno syscall.Errno

	// Delivery cursor over the entries of the last GRO call.
	cursor, off int
}

func newRecvState(gro bool) *recvState {
	r := &recvState{gro: gro}
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control = &r.ctrl[i][0]
	}
	if gro {
		r.groBufs = make([][]byte, groEntries)
		for i := range r.groBufs {
			r.groBufs[i] = make([]byte, groBufSize)
		}
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
	if r.gro {
		n = min(n, groEntries)
	}
	for i := range n {
		var buf []byte
		if r.gro {
			buf = r.groBufs[i]
		} else {
			buf = msgs[i].Buf
		}
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
		if r.gro && r.cursor < r.got {
			if n := s.deliverSegments(msgs); n > 0 {
				return n, nil
			}
			continue
		}
		if s.icmp && s.errPending.Swap(false) {
			if n := s.readErrQueue(msgs); n > 0 {
				return n, nil
			}
		}
		r.prepare(msgs)
		err := s.rc.Read(r.fn)
		if !r.gro {
			// Drop the references to the caller's buffers.
			for i := range r.n {
				r.iovs[i].Base = nil
			}
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
		for i := range r.got {
			s.readMeta(i, bound)
		}
		if r.gro {
			r.cursor, r.off = 0, 0
			continue
		}
		if n := s.deliverDirect(msgs); n > 0 {
			return n, nil
		}
	}
}

// readMeta reads entry i's length, flags, source and control messages.
func (s *sysConn) readMeta(i int, bound netip.Addr) {
	r := s.recv
	h := &r.hdrs[i].Hdr
	e := &r.meta[i]
	*e = entryMeta{n: int(r.hdrs[i].Len)}
	if h.Flags&unix.MSG_TRUNC != 0 {
		// Longer than the buffer: what was kept is not the datagram.
		e.drop = true
		s.truncated.Add(1)
		return
	}
	e.addr = getSockaddr(&r.names[i])
	var m recvMeta
	clen := min(int(h.Controllen), recvControlSpace)
	if err := parseControl(r.ctrl[i][:clen], &m); err != nil || h.Flags&unix.MSG_CTRUNC != 0 {
		s.controlErrors.Add(1)
	}
	e.ecn = ECN(m.tos & 0b11)
	e.seg = m.segSize
	e.local = bound
	if m.local.IsValid() {
		e.local = m.local
	}
}

// deliverDirect completes messages the kernel wrote in place. Dropped
// entries are squeezed out by swapping buffers, so a caller may find its
// Buf slices permuted among msgs.
func (s *sysConn) deliverDirect(msgs []Message) int {
	r := s.recv
	k := 0
	for i := range r.got {
		e := &r.meta[i]
		if e.drop {
			continue
		}
		if k != i {
			msgs[k].Buf, msgs[i].Buf = msgs[i].Buf, msgs[k].Buf
		}
		fill(&msgs[k], e, e.n, 0)
		k++
	}
	return k
}

// deliverSegments copies the next datagrams of the last GRO call into msgs,
// one segment each, and returns how many it filled.
func (s *sysConn) deliverSegments(msgs []Message) int {
	r := s.recv
	k := 0
	for k < len(msgs) && r.cursor < r.got {
		e := &r.meta[r.cursor]
		if e.drop {
			r.cursor, r.off = r.cursor+1, 0
			continue
		}
		end := e.n
		if e.seg > 0 {
			end = min(r.off+e.seg, e.n)
		}
		seg := r.groBufs[r.cursor][r.off:end]
		m := &msgs[k]
		if len(seg) > len(m.Buf) {
			s.truncated.Add(1)
		} else {
			copy(m.Buf, seg)
			segSize := 0
			if e.seg > 0 && e.seg < e.n {
				segSize = e.seg
			}
			fill(m, e, len(seg), segSize)
			k++
		}
		r.off = end
		if r.off >= e.n {
			r.cursor, r.off = r.cursor+1, 0
		}
	}
	return k
}

func fill(m *Message, e *entryMeta, n, segSize int) {
	m.N = n
	m.Addr = e.addr
	m.Local = e.local
	m.ECN = e.ecn
	m.SegmentSize = segSize
	m.ICMP = nil
}
