package udpio

import (
	"errors"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Send path. Each Message becomes one or more entries of a sendmmsg call:
// a run of segments to a destination that takes GSO is one entry with a
// UDP_SEGMENT control message (the kernel cuts it into datagrams), anywhere
// else each datagram is an entry. A call with one entry is a plain sendmsg.
//
// When the kernel refuses a GSO entry (EIO: the route's device cannot
// checksum segments, e.g. through xfrm; EINVAL: segment size or socket
// option it will not segment with) the same bytes are resent one datagram per
// entry, and if that works the destination is remembered and never offered
// GSO again; past maxNoGSODests such destinations, GSO is off for the socket.

const (
	// UDP_MAX_SEGMENTS in the kernels that introduced UDP_SEGMENT (4.18);
	// later kernels allow more, none fewer.
	maxGSOSegments = 64
	maxNoGSODests  = 256
)

var errBadMessage = errors.New("udpio: message length outside its buffer")

// sendEntry records which bytes an entry carries: message msg up to end.
type sendEntry struct {
	msg int
	end int
	gso bool
}

type sendBatch struct {
	hdrs  [MaxBatch]unix.Mmsghdr
	iovs  [MaxBatch]unix.Iovec
	names [MaxBatch]unix.RawSockaddrInet6
	ctrl  [MaxBatch][sendControlSpace]byte
	ent   [MaxBatch]sendEntry

	// State of the call in progress; fn is made once (see recvState).
	fn    func(fd uintptr) bool
	n     int
	sent  int
	errno syscall.Errno
}

func newSendBatch() *sendBatch {
	b := &sendBatch{}
	for i := range b.hdrs {
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	b.fn = b.send
	return b
}

// send is the RawConn.Write callback; false means "would block, wait".
// The socket is non-blocking: a full send buffer is EAGAIN, never a wait
// in the kernel (rawSyscall6).
func (b *sendBatch) send(fd uintptr) bool {
	for {
		var n uintptr
		var e syscall.Errno
		if b.n == 1 {
			_, _, e = rawSyscall6(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0].Hdr)), 0, 0, 0, 0)
			n = 1
		} else {
			n, _, e = rawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(b.n), 0, 0, 0)
		}
		switch e {
		case 0:
			b.sent, b.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			b.sent, b.errno = 0, e
			return true
		}
	}
}

func (s *sysConn) writeBatch(msgs []Message, wildcard bool) (int, error) {
	b := s.sendPool.Get().(*sendBatch)
	defer s.sendPool.Put(b)
	mi, off := 0, 0
	retry := -1 // message being resent without GSO after the kernel refused it
	icmpRetried := false
	for mi < len(msgs) {
		n, err := s.fillSend(b, msgs, mi, off, retry, wildcard)
		if n == 0 {
			return mi, err
		}
		b.n = n
		werr := s.rc.Write(b.fn)
		for i := range n {
			b.iovs[i].Base = nil // drop the references to the caller's buffers
		}
		if werr != nil {
			return mi, werr
		}
		if b.errno != 0 {
			// sendmmsg reports an error only when its first entry failed.
			if e := b.ent[0]; e.gso && (b.errno == unix.EIO || b.errno == unix.EINVAL) && retry != e.msg {
				retry = e.msg
				s.gsoFallbacks.Add(1)
				continue
			}
			if s.icmp && queuedErrno(b.errno) {
				// The socket's pending error, left by an ICMP message
				// about an earlier datagram, failed this call: the
				// reader is to fetch the report, and these datagrams
				// are sent again (icmp_linux.go). EMSGSIZE is this
				// call's own (and queued a local error).
				s.errPending.Store(true)
				if b.errno != unix.EMSGSIZE && !icmpRetried {
					icmpRetried = true
					continue
				}
			}
			call := "sendmmsg"
			if n == 1 {
				call = "sendmsg"
			}
			return mi, os.NewSyscallError(call, b.errno)
		}
		if retry >= 0 && b.ent[0].msg == retry {
			// Without GSO the kernel took it: GSO was the trouble.
			s.rememberNoGSO(msgs[retry].Addr)
			retry = -1
		}
		last := b.ent[b.sent-1]
		mi, off = last.msg, last.end
		if off >= msgs[mi].N {
			mi, off = mi+1, 0
		}
	}
	return len(msgs), nil
}

// fillSend builds entries from message mi at byte off onwards and returns
// how many. It returns 0 and an error when message mi itself is invalid.
// Message noGSO is sent without GSO whatever the destination.
func (s *sysConn) fillSend(b *sendBatch, msgs []Message, mi, off, noGSO int, wildcard bool) (int, error) {
	gsoOn := s.gso.Load()
	n := 0
	for mi < len(msgs) && n < MaxBatch {
		m := &msgs[mi]
		if m.N < 0 || m.N > len(m.Buf) {
			if n == 0 {
				return 0, errBadMessage
			}
			break
		}
		namelen := putSockaddr(&b.names[n], m.Addr, s.family)
		if namelen == 0 {
			if n == 0 {
				return 0, ErrAddressFamily
			}
			break
		}
		seg := m.SegmentSize
		end, gso := m.N, false
		if seg > 0 && seg < m.N {
			if gsoOn && mi != noGSO && !s.destNoGSO(m.Addr) {
				segs := max(1, min(maxGSOSegments, MaxGSOBytes/seg))
				end = min(off+segs*seg, m.N)
				gso = end-off > seg
			} else {
				end = min(off+seg, m.N)
			}
		}
		if end > off {
			b.iovs[n].Base = &m.Buf[off]
		} else {
			b.iovs[n].Base = nil
		}
		b.iovs[n].SetLen(end - off)

		sc := sendControl{ecn: m.ECN & 0b11, family: s.family}
		sc.dest4 = m.Addr.Addr().Is4() || m.Addr.Addr().Is4In6()
		if gso {
			sc.segSize = seg
		}
		if wildcard {
			sc.from = m.Local
		}
		h := &b.hdrs[n].Hdr
		h.Namelen = namelen
		if cl := buildControl(b.ctrl[n][:], sc); cl > 0 {
			h.Control = &b.ctrl[n][0]
			h.SetControllen(cl)
		} else {
			h.Control = nil
			h.SetControllen(0)
		}
		h.Flags = 0
		b.ent[n] = sendEntry{msg: mi, end: end, gso: gso}
		n++
		if off = end; off >= m.N {
			mi, off = mi+1, 0
		}
	}
	return n, nil
}

func (s *sysConn) destNoGSO(a netip.AddrPort) bool {
	if s.noGSOCount.Load() == 0 {
		return false
	}
	s.noGSOMu.Lock()
	_, ok := s.noGSO[a]
	s.noGSOMu.Unlock()
	return ok
}

func (s *sysConn) rememberNoGSO(a netip.AddrPort) {
	s.noGSOMu.Lock()
	defer s.noGSOMu.Unlock()
	if len(s.noGSO) >= maxNoGSODests {
		s.gso.Store(false)
		return
	}
	if s.noGSO == nil {
		s.noGSO = make(map[netip.AddrPort]struct{})
	}
	s.noGSO[a] = struct{}{}
	s.noGSOCount.Store(int32(len(s.noGSO)))
}
