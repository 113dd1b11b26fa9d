package recovery

import "github.com/skiffnet/skiff/congestion"

// OnPathChange gives the connection's new path its own congestion
// controller (RFC 9000 §9.4): cc takes over now, and the packets sent so
// far, on the old path, no longer feed it: their acknowledgments give no
// RTT sample and grow no window, their losses are no congestion signal
// (they leave bytes_in_flight as discarded packets do; cc never counted
// them). ECN validation starts over, since the new path may treat marks
// differently (RFC 9000 §9.2, §13.4). The caller resets the RTT estimator
// it shares with recovery, or restores the new path's.
func (r *Recovery) OnPathChange(cc congestion.PacketController) {
	r.cc = cc
	r.pathStart = r.space(SpaceAppData).sent.nextPN()
	r.RestartECNValidation()
}

// RestartECNValidation starts ECN validation over, for a path whose
// marks are yet unknown (RFC 9000 §13.4.2).
func (r *Recovery) RestartECNValidation() { r.ecn = ecnValidation{} }

// onOldPath reports whether packet pn of space was sent on a path the
// connection left since.
func (r *Recovery) onOldPath(space Space, pn uint64) bool {
	return space == SpaceAppData && pn < r.pathStart
}
