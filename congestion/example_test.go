package congestion_test

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// A connection's use of a Controller: ask for a budget, send one GSO burst,
// report the packets, and feed back ACKs with their RTT samples.
func Example() {
	cc, err := congestion.New(congestion.Config{Algorithm: "cubic", MaxDatagramSize: 1200})
	if err != nil {
		panic(err)
	}
	var rtt congestion.RTTStats
	rtt.SetMaxAckDelay(25 * time.Millisecond)

	now := 10 * time.Millisecond // the caller's monotonic clock
	packets, next := cc.SendBudget(now)
	fmt.Println("burst:", packets, "packets; next:", next == congestion.Never)
	for range packets {
		cc.OnPacketSent(now, 1200, true)
	}
	sent := now

	// An ACK frame for 4 of them arrives 50 ms later, with 2 ms ACK delay.
	now += 50 * time.Millisecond
	rtt.UpdateRTT(now, now-sent, 2*time.Millisecond, true)
	cc.OnAck(now, 4*1200, sent, &rtt)
	fmt.Println("cwnd:", cc.CongestionWindow(), "in flight:", cc.BytesInFlight(), "slow start:", cc.InSlowStart())

	// A loss, detected by the connection's loss recovery.
	cc.OnPacketsLost(now, 1200, sent, false)
	fmt.Println("cwnd:", cc.CongestionWindow(), "recovery:", cc.InRecovery())
	// Output:
	// burst: 10 packets; next: true
	// cwnd: 16800 in flight: 7200 slow start: true
	// cwnd: 11760 recovery: true
}

// The per-packet calls, which BBR needs: each sent packet's PacketState
// lives in the caller's sent-packet record, and an ACK frame is reported
// packet by packet, then closed with OnAckEnd.
func ExamplePacketController() {
	cc, err := congestion.New(congestion.Config{Kind: congestion.BBR, MaxDatagramSize: 1200, Seed: 1})
	if err != nil {
		panic(err)
	}
	type sentPacket struct {
		pn uint64
		cc congestion.PacketState
	}
	var rtt congestion.RTTStats
	var sent [10]sentPacket

	now := 10 * time.Millisecond
	packets, _ := cc.SendBudget(now)
	for i := range packets {
		sent[i].pn = uint64(i)
		cc.OnSent(now, 1200, &sent[i].cc)
	}
	fmt.Println("burst:", packets, "in flight:", cc.BytesInFlight())

	// 50 ms later an ACK frame acknowledges packets 0-7 and loss detection
	// declares none lost; packets 8 and 9 are still in flight.
	now += 50 * time.Millisecond
	rtt.UpdateRTT(now, now-sent[7].cc.SendTime(), 0, true)
	for i := range 8 {
		cc.OnAcked(now, &sent[i].cc)
	}
	cc.OnAckEnd(now, &rtt, 0)
	fmt.Println("in flight:", cc.BytesInFlight(), "startup:", cc.InSlowStart())

	// Later the loss timer declares packet 8 lost.
	now += 60 * time.Millisecond
	cc.OnLost(now, &sent[8].cc)
	fmt.Println("in flight:", cc.BytesInFlight(), "recovery:", cc.InRecovery())
	// Output:
	// burst: 10 in flight: 12000
	// in flight: 2400 startup: true
	// in flight: 1200 recovery: true
}
