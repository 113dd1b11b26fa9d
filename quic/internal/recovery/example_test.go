package recovery_test

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// settle stands for the connection: it retires or retransmits frames as
// packets are acknowledged or lost.
func settle(res *recovery.Resolved) {
	for _, p := range res.Acked {
		fmt.Printf("acked %v packet %d (%d frames)\n", res.Space, p.PN, len(p.Frames))
	}
	for _, p := range res.Lost {
		fmt.Printf("lost %v packet %d: retransmit its frames\n", res.Space, p.PN)
	}
}

func Example() {
	var rtt congestion.RTTStats
	var r recovery.Recovery
	r.Init(&rtt, congestion.NewNewReno(1200, true))
	var res recovery.Resolved             // reused by every call
	r.SetHandshakeState(true, true, true) // a server after the handshake

	// Sending: fill the slot while building the packet, then report it.
	for i := range 5 {
		p := r.NextPacket(recovery.SpaceAppData)
		p.Frames = append(p.Frames, recovery.SentFrame{Kind: 1, ID: 0, Offset: uint64(i) * 1000, Length: 1000})
		p.Size, p.AckEliciting, p.InFlight = 1200, true, true
		r.OnPacketSent(recovery.SpaceAppData, p, time.Duration(i)*time.Millisecond)
	}
	deadline, _ := r.LossDetectionDeadline()
	fmt.Println("timer at", deadline)

	// Receiving an ACK frame for packets 3 and 4, 46ms after 4 was sent:
	// packets 0 and 1 are lost (kPacketThreshold), 2 waits for the time
	// threshold, 9/8 of the RTT after it was sent.
	ack := wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 3, Largest: 4}}}
	if err := r.OnAckReceived(recovery.SpaceAppData, &ack, 0, 50*time.Millisecond, &res); err != nil {
		fmt.Println("close the connection:", err)
	}
	settle(&res)
	deadline, _ = r.LossDetectionDeadline()
	fmt.Println("timer at", deadline)

	// The timer fires: packet 2 is lost too.
	r.OnLossDetectionTimeout(deadline, &res)
	settle(&res)

	// Packet 0 was only late: the peer acknowledges it after all. The
	// loss was spurious; the thresholds adapt to the reordering seen
	// (4 packets, so the packet threshold becomes 5, and loss_delay grows
	// by RACK's reordering window, a quarter of min_rtt).
	ack.Ranges = []wire.AckRange{{Smallest: 3, Largest: 4}, {Smallest: 0, Largest: 0}}
	if err := r.OnAckReceived(recovery.SpaceAppData, &ack, 0, 60*time.Millisecond, &res); err != nil {
		fmt.Println("close the connection:", err)
	}
	settle(&res)
	fmt.Printf("%+v\n", r.Stats())
	// Output:
	// timer at 1.003s
	// acked ApplicationData packet 3 (1 frames)
	// acked ApplicationData packet 4 (1 frames)
	// lost ApplicationData packet 0: retransmit its frames
	// lost ApplicationData packet 1: retransmit its frames
	// timer at 53.75ms
	// lost ApplicationData packet 2: retransmit its frames
	// {PacketsSent:5 BytesSent:6000 PacketsAcked:2 PacketsLost:3 BytesLost:3600 PTOs:0 PersistentCongestion:0 SpuriousLosses:1 SpuriousCongestionEvents:0 MaxReorderDistance:4 MaxReorderDelay:60ms PacketThreshold:5 TimeThreshold:57.5ms}
}
