package hostile

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// FlightForger makes first flights for fresh connection IDs out of one
// real client's first flight.
type FlightForger struct {
	scid    wire.ConnectionID
	packets []initialPacket
}

// initialPacket is one Initial packet of the first flight, unprotected.
type initialPacket struct {
	pn      uint64
	payload []byte // frames: CRYPTO (the ClientHello) and PADDING
}

// NewFlightForger takes the first flight of a client with this TLS
// configuration (its ALPN and server name must suit the target).
func NewFlightForger(tlsConfig *tls13.Config) (*FlightForger, error) {
	now := time.Now()
	dcid, scid := conn.NewConnectionID(), conn.NewConnectionID()
	c, err := conn.New(now, &conn.Config{TLS: tlsConfig}, &conn.Params{
		IsClient: true, Version: wire.Version1, DCID: dcid, SCID: scid,
		Peer: netip.MustParseAddrPort("127.0.0.1:443"), ResetKey: new([32]byte),
	})
	if err != nil {
		return nil, err
	}
	out, seg, _ := c.AppendBurst(now, make([]byte, 0, 16*conn.MaxDatagramSize), 16)
	if seg == 0 {
		seg = len(out)
	}
	keys, _, err := protect.InitialKeys(uint32(wire.Version1), dcid.Bytes())
	if err != nil {
		return nil, err
	}
	f := &FlightForger{scid: scid}
	for len(out) > 0 {
		d := out[:min(seg, len(out))]
		out = out[len(d):]
		for len(d) > 0 {
			hdr, err := wire.ParseHeader(d, conn.ConnIDLen, false)
			if err != nil {
				return nil, err
			}
			if hdr.Type != wire.PacketInitial {
				return nil, errors.New("hostile: the first flight holds a packet that is not an Initial")
			}
			payload, pn, err := keys.OpenPacket(d[:hdr.PacketLen], hdr.PacketNumberOffset, -1)
			if err != nil {
				return nil, err
			}
			f.packets = append(f.packets, initialPacket{pn: pn, payload: append([]byte(nil), payload...)})
			d = d[hdr.PacketLen:]
		}
	}
	if len(f.packets) == 0 {
		return nil, errors.New("hostile: the client sent nothing")
	}
	return f, nil
}

// Datagrams is how many datagrams a first flight takes.
func (f *FlightForger) Datagrams() int { return len(f.packets) }

// Forge appends to dst the datagrams of a first flight sent to a fresh
// random Destination Connection ID (each Initial packet in a datagram of
// its own), and returns them.
func (f *FlightForger) Forge(dst [][]byte) [][]byte {
	var b [wire.MaxConnectionIDLen]byte
	rand.Read(b[:conn.ConnIDLen])
	dcid, _ := wire.MakeConnectionID(b[:conn.ConnIDLen])
	keys, _, err := protect.InitialKeys(uint32(wire.Version1), dcid.Bytes())
	if err != nil {
		panic(err) // unreachable: version 1 is supported
	}
	for _, p := range f.packets {
		h := wire.Header{Version: wire.Version1, Type: wire.PacketInitial, DCID: dcid, SCID: f.scid}
		buf := make([]byte, 0, 64+len(p.payload)+protect.TagLen)
		buf, lengthOffset, pnOffset := wire.AppendLongHeader(buf, &h, wire.PacketNumber(p.pn), 4)
		buf = append(buf, p.payload...)
		if err := wire.PutLongHeaderLength(buf, lengthOffset, len(buf)-pnOffset+protect.TagLen); err != nil {
			panic(err) // unreachable: a datagram's worth
		}
		pkt, err := keys.SealPacket(buf, pnOffset, p.pn)
		if err != nil {
			panic(err)
		}
		dst = append(dst, pkt)
	}
	return dst
}

// FloodStats is what a flood sent.
type FloodStats struct {
	Flights, Datagrams, Bytes int
	Ports                     int // distinct source ports used
	Elapsed                   time.Duration
}

// FloodFirstFlights sends n forged first flights to target, each from a
// source port of its own (a socket bound to 127.0.0.1 or the target's
// loopback address, used for one flight and closed), at most perSecond
// flights a second (0: as fast as it goes), until n went out or ctx ends.
// Ports come from [firstPort, 65535]; one in use is skipped.
func FloodFirstFlights(ctx context.Context, target netip.AddrPort, f *FlightForger, n, perSecond, firstPort int) (FloodStats, error) {
	var st FloodStats
	start := time.Now()
	port := firstPort
	var dgrams [][]byte
	for st.Flights < n {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if perSecond > 0 {
			// Pace the load: the flights due by now at the rate asked.
			due := int(time.Since(start).Seconds() * float64(perSecond))
			if st.Flights >= due {
				time.Sleep(time.Duration(float64(st.Flights-due+1) / float64(perSecond) * float64(time.Second)))
				continue
			}
		}
		if port > 65535 {
			return st, errors.New("hostile: out of source ports")
		}
		sock, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(target.Addr(), uint16(port))))
		port++
		if err != nil {
			continue // in use
		}
		dgrams = f.Forge(dgrams[:0])
		for _, d := range dgrams {
			if _, err := sock.WriteToUDPAddrPort(d, target); err == nil {
				st.Datagrams++
				st.Bytes += len(d)
			}
		}
		sock.Close()
		st.Flights++
		st.Ports++
	}
	st.Elapsed = time.Since(start)
	return st, nil
}
