package tls13

import (
	"bytes"
	"testing"
)

// chunkedEndpoint hands our Conn its CRYPTO data as QUIC does: in pieces
// of a fixed size, through one buffer that is overwritten after every
// HandleData (the connection reads its CRYPTO stream into a reused
// buffer), so that a message kept by aliasing what HandleData was given
// would be corrupted.
type chunkedEndpoint struct {
	c       *Conn
	chunk   int
	scratch []byte
}

func (e *chunkedEndpoint) handle(l Level, b []byte) error {
	for len(b) > 0 {
		n := copy(e.scratch[:min(e.chunk, len(b))], b)
		b = b[n:]
		err := e.c.HandleData(l, e.scratch[:n])
		for i := range e.scratch {
			e.scratch[i] = 0xaa
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *chunkedEndpoint) next() hsEvent { return ourEndpoint{e.c}.next() }

// TestHandshakeChunked runs handshakes whose messages arrive split at
// many sizes, including split headers and pieces ending exactly on a
// message boundary, and checks that both sides agree on everything the
// messages carried: HandleData completes a split message in its own
// buffer, never in the caller's.
func TestHandshakeChunked(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, chunk := range []int{1, 3, 4, 5, 100, 700, 1200, 4096} {
		client := newOurClient(t, baseClientConfig(), clientParams)
		server := newOurServer(t, baseServerConfig(cert), serverParams)
		cr, sr := newRecord(), newRecord()
		run(&chunkedEndpoint{client, chunk, make([]byte, chunk)}, &chunkedEndpoint{server, chunk, make([]byte, chunk)}, cr, sr)
		if cr.err != nil || sr.err != nil {
			t.Fatalf("chunk %d: client %v, server %v", chunk, cr.err, sr.err)
		}
		if !cr.done || !sr.done {
			t.Fatalf("chunk %d: handshake not done (client %v, server %v)", chunk, cr.done, sr.done)
		}
		checkSecrets(t, cr, sr, LevelHandshake, LevelApplication)
		if !bytes.Equal(cr.params, serverParams) || !bytes.Equal(sr.params, clientParams) {
			t.Errorf("chunk %d: transport parameters %q and %q", chunk, cr.params, sr.params)
		}
		cs := client.ConnectionState()
		if cs.NegotiatedProtocol != "h3" || len(cs.PeerCertificates) != 1 || !bytes.Equal(cs.PeerCertificates[0].Raw, cert.Certificate[0]) {
			t.Errorf("chunk %d: client state %q, %d certificates", chunk, cs.NegotiatedProtocol, len(cs.PeerCertificates))
		}
	}
}

// TestTailRoom checks the room HandleData makes for the message a piece
// of CRYPTO data ends in.
func TestTailRoom(t *testing.T) {
	msg := func(n int) []byte { return append([]byte{1, 0, byte(n >> 8), byte(n)}, make([]byte, n)...) }
	two := append(msg(10), msg(20)...)
	for _, tc := range []struct {
		data []byte
		want int
	}{
		{nil, 0},
		{two, 0},                // ends on a boundary
		{two[:3], 0},            // inside the first header
		{two[:12], 2},           // inside the first body
		{two[:14+3], 0},         // inside the second header
		{two[:14+4+5], 15},      // inside the second body
		{[]byte{1, 1, 0, 0}, 0}, // over the limit: refused, no room
	} {
		if got := tailRoom(tc.data, 1000); got != tc.want {
			t.Errorf("tailRoom(% x) = %d, want %d", tc.data, got, tc.want)
		}
	}
}
