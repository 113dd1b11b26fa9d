package runner

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// crossTraffic is a bulk TCP flow from the server's namespace to the
// client's, through the sim namespace's bottleneck: the kernel's CUBIC
// against the QUIC transfer. It does not pass the relay, so it sees the
// bottleneck's queue but not the relay's 15 ms delay.
type crossTraffic struct {
	ln      net.Listener
	conn    net.Conn
	start   time.Time
	read    atomic.Int64
	stopped chan struct{}
	done    chan struct{}
}

const crossTrafficPort = 5201

func startCrossTraffic(t *Topology) (*crossTraffic, error) {
	ct := &crossTraffic{stopped: make(chan struct{}), done: make(chan struct{})}
	addr := netip.AddrPortFrom(t.ServerAddr[0], crossTrafficPort).String()
	err := t.Do(t.Server, func() (err error) {
		ct.ln, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	go ct.send()
	err = t.Do(t.Client, func() (err error) {
		ct.conn, err = net.DialTimeout("tcp4", addr, 5*time.Second)
		return err
	})
	if err != nil {
		ct.ln.Close()
		return nil, err
	}
	ct.start = time.Now()
	go func() {
		defer close(ct.done)
		buf := make([]byte, 64<<10)
		for {
			n, err := ct.conn.Read(buf)
			ct.read.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	return ct, nil
}

func (ct *crossTraffic) send() {
	c, err := ct.ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		select {
		case <-ct.stopped:
			return
		default:
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// stop ends the flow and returns its goodput in bit/s.
func (ct *crossTraffic) stop() float64 {
	elapsed := time.Since(ct.start)
	n := ct.read.Load()
	close(ct.stopped)
	ct.conn.Close()
	ct.ln.Close()
	<-ct.done
	return 8 * float64(n) / elapsed.Seconds()
}
