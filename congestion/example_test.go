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
