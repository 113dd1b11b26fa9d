// Package recovery is the loss recovery of a QUIC connection, sans-I/O:
// the sender side of RFC 9002 (loss detection, probe timeouts, persistent
// congestion, driving the RTT estimator and the congestion controller of
// package congestion) and the receiver side of RFC 9000 §13.2 (when to
// acknowledge, and the ACK frames). It reads no clock: every call carries
// the caller's monotonic time as a time.Duration since an arbitrary epoch,
// and the caller arms timers for LossDetectionDeadline and AckDeadline.
//
// # Sending: Recovery
//
// Recovery follows the pseudocode of RFC 9002 Appendix A, one method per
// event: OnPacketSent (A.5), OnAckReceived (A.7), the loss detection timer
// (A.8) and its expiry OnLossDetectionTimeout (A.9), DetectAndRemoveLostPackets
// (A.10) and DiscardSpace (A.11). The connection builds each packet in a slot
// from NextPacket, recording the frames it must act on later as SentFrame
// values, and learns each packet's fate from the calls that decide it:
// OnAckReceived, OnLossDetectionTimeout and RetransmitAll fill a Resolved
// the caller owns with the packets acknowledged and those lost (whose
// frames' information it then retransmits, RFC 9000 §13.3; LostBy says
// which threshold declared each lost). Nothing is called back.
//
// The congestion controller is a congestion.PacketController, fed as
// package congestion's "The per-packet calls" lays down: OnSent for each
// in-flight packet, with the controller's PacketState kept in the
// packet's sent-packet record (no allocation: the ring's slots are
// reused); per ACK frame, the RTT sample, OnAcked for each newly
// acknowledged packet, OnLost for each loss, OnPersistentCongestion, then
// OnAckEnd with the rise of the ECN-CE count; OnLost alone for the loss
// timer's losses. A packet declared lost and acknowledged later is
// reported with OnAcked from the lost packet history, which keeps its
// PacketState (BBR counts it delivered). Whatever the controller, NewReno,
// CUBIC or BBR, the calls are the same.
//
//   - Loss: kPacketThreshold 3 (§6.1.1), kTimeThreshold 9/8 of
//     max(smoothed_rtt, latest_rtt), at least kGranularity (§6.1.2), both
//     adapted to the reordering seen (below).
//   - Spurious losses (§6.1): packets declared lost are remembered for a
//     PTO period (at most 128 per space); an ACK of one of them counts a
//     spurious loss (Stats.SpuriousLosses; the packet is not reported
//     again) and adapts the thresholds the way RACK does (RFC 8985 §6.2):
//     the packet threshold rises to one more than the reordering distance
//     seen (at most 256); the time threshold's margin over the RTT becomes
//     reo_wnd = reo_wnd_mult * min_rtt/4, reo_wnd_mult growing once per
//     round trip with spurious losses, capped at smoothed_rtt (so
//     loss_delay goes from 9/8 towards 2 RTTs); 16 loss episodes without
//     a spurious loss reset both. When every loss of the latest episode
//     proves spurious, the congestion controller is asked to undo its
//     reduction (RFC 9438 §4.9.2), except after persistent congestion.
//   - RTT: one sample per ACK frame that newly acknowledges its largest
//     packet number, when a newly acknowledged packet is ack-eliciting
//     (§5.1); ACK Delay ignored for Initial (§5.3).
//   - PTO: per space, max_ack_delay only for Application Data, none for it
//     before handshake confirmation, exponential backoff reset by ACKs
//     except at a client unsure of its address validation (§6.2.1); the
//     client's anti-deadlock probe (§6.2.2.1), also when only 0-RTT
//     packets are in flight (where the Appendix A.8 pseudocode would arm
//     no timer), and no timer at a server blocked by the
//     anti-amplification limit. Two probes per PTO, one for anti-deadlock.
//   - RetransmitAll hands every outstanding packet of a space back as lost
//     without a congestion signal, for a Retry (§6.3) or rejected 0-RTT.
//   - A lost path MTU probe (SentPacket.PMTUProbe) leaves bytes in flight
//     without a congestion signal either (RFC 8899 §3).
//   - Persistent congestion (§7.6.2): on receipt of an ACK, two
//     ack-eliciting packets declared lost, sent after the first RTT sample,
//     more than the persistent congestion duration apart, with no packet
//     acknowledged between them. It is judged within the acknowledged
//     packet number space only, which §7.6.2 allows.
//   - ECN: the counts of ACK frames are validated (RFC 9000 §13.4.2.1,
//     with the states of Appendix A.4: ten marked packets or three PTOs of
//     testing, then unmarked until validated; failure when marked packets
//     are acknowledged without counts or with too small increases, when
//     ECT(1) or more ECT(0) than sent is reported, or when every marked
//     packet is lost); ShouldMarkECT tells the connection whether to mark.
//     A validated increase of the ECN-CE count is a congestion event
//     (RFC 9002 §7.1).
//
// Sent packets live in one ring per space, indexed by packet number, whose
// slots and Frames slices are reused: no allocation per packet once the
// ring has grown to the largest flight, and an ACK costs O(1) amortized per
// newly acknowledged packet plus O(1) per range (O(log 128) for the lost
// packet history), and O(packet threshold) while an older packet is still
// outstanding (at most 256, when reordering raised the threshold).
//
// # Receiving: ReceivedTracker
//
// ReceivedTracker keeps the packet numbers received in one space as a
// range set bounded to MaxTrackedRanges, detects duplicates, and answers
// when an ACK frame is due under an AckPolicy (RFC 9000 §13.2.1, §13.2.2;
// draft-ietf-quic-ack-frequency-14 §6): at once for Initial and Handshake
// (max_ack_delay 0); after more than Threshold ack-eliciting packets (1,
// every second one, by default); for an ack-eliciting packet out of order
// or after a gap (Reordering 1, the default), never for reordering
// (Reordering 0), or when the reordering could make the sender declare a
// loss (Reordering above 1, §6.2); for an IMMEDIATE_ACK (§5); for a CE mark
// (only the first of a run when Threshold is above 1, §6.3); otherwise
// MaxAckDelay after the first unacknowledged ack-eliciting packet. AppendAckFrame writes the newest MaxAckRanges
// ranges with the ACK Delay and ECN counts; OnAckOfAckReceived forgets what
// the peer has seen acknowledged (§13.2.4).
//
// # Limits, not done yet
//
//   - ECN validation is one state per connection, started over when the
//     connection changes path (OnPathChange, RestartECNValidation); a path
//     where it failed is not tested again while the connection stays on it
//     (RFC 9000 §13.4.2.2 allows either).
//   - Persistent congestion does not look across packet number spaces.
//   - No skipped packet numbers to detect optimistic ACKs (RFC 9000 §21.4).
//   - Spurious loss detection forgets a lost packet one PTO after the
//     loss, or when 128 newer ones were lost in its space; a later ACK of
//     it goes unnoticed. The connection is not told of spurious losses,
//     so their retransmissions still go out (harmlessly duplicated).
//   - The adapted thresholds are per connection, kept across path changes,
//     and never shrink except by the reset after 16 loss episodes; a path
//     that stops reordering and never loses keeps them.
//   - One Recovery per connection, not per path: on a path change
//     (OnPathChange, path.go) the new path's controller takes over and the
//     packets sent before no longer feed it; the connection keeps each
//     path's controller and RTT estimator and resets or restores the one
//     Recovery shares (RFC 9000 §9.4).
//   - While only packets carrying nothing but ACK frames are sent and the
//     peer acknowledges none, at most 4096 are kept per space; older ones
//     are declared lost (harmlessly: they were not in flight). The
//     connection should send a PING about once per round trip in that
//     case (RFC 9000 §13.2.4).
package recovery
