package qlog_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/quic/qlog"
)

// One qlog file per connection in $QLOGDIR, as the QUIC Interop Runner
// expects; with QLOGDIR unset, DirTracer returns nil and nothing is
// traced (nor written into the working directory).
func ExampleDirTracer() {
	config := &quic.Config{
		// TLS: ...
		Tracer: qlog.DirTracer(os.Getenv("QLOGDIR")),
	}
	_ = config
	fmt.Println(qlog.DirTracer("") == nil)
	// Output: true
}

// NewTracer writes a connection's trace to any io.Writer: a JSON Text
// Sequence (RFC 7464), one record per event after the header. The hooks
// are called here by hand; quic calls them for each connection whose
// Config.Tracer returns them.
func ExampleNewTracer() {
	var trace bytes.Buffer
	config := &quic.Config{
		Tracer: func(isClient bool, odcid []byte) *quic.Tracer {
			return qlog.NewTracer(&trace, isClient, odcid)
		},
	}
	t := config.Tracer(true, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	// A PING frame (type 0x01) in each packet.
	t.PacketSentFrames(quic.PacketInfo{Type: "initial", Number: 0, Size: 1200, Payload: []byte{0x01}})
	t.PacketReceivedFrames(quic.PacketInfo{Type: "initial", Number: 0, Size: 1200, Payload: []byte{0x01}})
	t.HandshakeComplete()
	t.Closed(quic.Stats{})
	for _, event := range []string{"quic:packet_sent", "quic:packet_received", "quic:connection_closed"} {
		fmt.Println(event, bytes.Contains(trace.Bytes(), []byte(`"name":"`+event+`"`)))
	}
	// Output:
	// quic:packet_sent true
	// quic:packet_received true
	// quic:connection_closed true
}
