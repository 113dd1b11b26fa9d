package conn

import "github.com/skiffnet/skiff/congestion"

// The connection's side of congestion control: loss recovery feeds the
// controller packet by packet (package congestion's "The per-packet
// calls"); what is left to the connection is to say when it ran out of
// data, and to report the controller's state.

// checkApplicationLimited tells the controller that the sender ran out of
// data although it could have sent budget more packets (congestion's
// per-packet calls, step 2; draft-ietf-ccwg-bbr §4.1.2.4
// CheckIfApplicationLimited): BBR then takes the delivery rate samples of
// the packets that follow as application-limited, so that an idle or
// slow application does not lower its bandwidth estimate. It runs after
// each burst, which also covers an application's next write: the
// connection was found out of data when its last burst ended.
func (c *Conn) checkApplicationLimited(budget int) {
	if budget > 0 && c.probes == 0 && !c.hasPendingData() {
		c.cc.OnApplicationLimited()
	}
}

// bbrStats returns BBR's state, and false for another controller.
func (c *Conn) bbrStats() (congestion.BBRStats, bool) {
	if b, ok := c.cc.(*congestion.BBRController); ok {
		return b.Stats(), true
	}
	return congestion.BBRStats{}, false
}

// congestionState names the controller's state as qlog's
// congestion_state_updated does (draft-ietf-quic-qlog-quic-events-13
// §7.3): for NewReno and CUBIC the states RFC 9002 names ("slow_start",
// "congestion_avoidance", "recovery"); for BBR its own
// (draft-ietf-ccwg-bbr §5.1: "Startup", "Drain", "ProbeBW_DOWN", ...).
func (c *Conn) congestionState() string {
	if st, ok := c.bbrStats(); ok {
		return st.State.String()
	}
	switch {
	case c.cc.InRecovery():
		return "recovery"
	case c.cc.InSlowStart():
		return "slow_start"
	}
	return "congestion_avoidance"
}

// congestionStats fills the controller's part of Stats.
func (c *Conn) congestionStats(s *Stats) {
	s.Congestion = c.config.Congestion
	if s.Congestion == congestion.DefaultAlgorithm {
		s.Congestion = congestion.CUBIC
	}
	s.PacingRate = c.cc.PacingRate()
	s.BBR, _ = c.bbrStats()
}
