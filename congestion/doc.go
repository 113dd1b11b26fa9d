// Package congestion is skiff's congestion control: a sans-I/O Controller
// per path that the connection tells about packets sent, acknowledged and
// lost, and ECN-CE marks, and that answers how much may be in flight and
// when the next packet may leave. It reads no clock, starts no goroutine and
// allocates nothing per call; every time is the caller's monotonic clock as
// a time.Duration since an arbitrary epoch.
//
// # What it implements
//
//   - RFC 9002 §5: RTTStats, the RTT estimator (latest_rtt, min_rtt,
//     smoothed_rtt, rttvar, ACK delay handling, PTO and persistent
//     congestion durations), shared by loss recovery and the controllers.
//   - RFC 9002 §7 and Appendix B: NewReno, with the initial window
//     min(10*mss, max(14720, 2*mss)), the minimum window 2*mss, a recovery
//     period judged on send times (one reduction per round trip, one packet
//     allowed on entering it), kLossReductionFactor 0.5, and the minimum
//     window on persistent congestion (§7.6).
//   - RFC 9438: CUBIC, the default. W_cubic(t) = C*(t-K)^3 + W_max with
//     C = 0.4, β_cubic = 0.7, K = cbrt((W_max - cwnd_epoch)/C); concave and
//     convex regions with target clamped to [cwnd, 1.5*cwnd]; the
//     Reno-friendly W_est with α_cubic = 3(1-β)/(1+β), then 1 once W_est
//     reaches cwnd_prior; fast convergence; K = 0 and W_max = cwnd after a
//     HyStart++ exit (§4.10) or persistent congestion (§4.8). Windows are in
//     bytes, the RFC's segment formulas scaled by max_datagram_size.
//   - RFC 9406: HyStart++ for CUBIC's initial slow start: rounds, the RTT
//     delay-increase test (MIN_RTT_THRESH 4 ms, MAX_RTT_THRESH 16 ms,
//     MIN_RTT_DIVISOR 8, N_RTT_SAMPLE 8), Conservative Slow Start
//     (CSS_GROWTH_DIVISOR 4, CSS_ROUNDS 5), return to slow start when the RTT
//     falls back, L = infinity when paced and 8 when not.
//   - draft-ietf-ccwg-bbr-06: BBR version 3, see "BBR" below.
//   - RFC 9002 §7.7: a pacer, a leaky bucket refilled at a pacing rate.
//     For NewReno and CUBIC the rate is N*cwnd/smoothed_rtt, N = 2 while in
//     slow start (so the pacer never limits the doubling) and 5/4
//     otherwise, and the bucket holds 250 µs of it, BurstPackets (10) to
//     MaxBurstPackets (90) packets; BBR sets both itself. Integer bytes and
//     nanoseconds. Controller.SendBudget combines it with the window into
//     one answer shaped for GSO: how many full-size packets may go now, and
//     when the pacer allows the next.
//   - RFC 9002 §7.8 and RFC 9438 §5.8: the window grows only while it is
//     used; CUBIC's t excludes the time it was not.
//   - RFC 9438 §4.9.2: UndoCongestionEvent, called by loss recovery when
//     every loss behind the latest congestion event proved spurious,
//     restores the state saved before the reduction (for CUBIC cwnd,
//     ssthresh, cwnd_prior, W_max, K, t_epoch, W_est and HyStart++; for
//     NewReno the window and ssthresh; both also the recovery period) if
//     the window is still below what it was. ECN-CE and persistent
//     congestion events are never undone.
//
// New builds a controller from a Config; Config.Kind takes the typed
// Algorithm (CUBIC, NewReno, BBR; ParseAlgorithm reads their names), the
// older Config.Algorithm string names CUBIC and NewReno only.
//
// # Division of work with the connection
//
// The Controller keeps bytes_in_flight. Loss detection, and the persistent
// congestion verdict of RFC 9002 §7.6.2, stay with the connection's loss
// recovery, which has the sent-packet records. ECN validation (RFC 9000
// §13.4.2) is the connection's too. Probe packets (RFC 9002 §7.5) are sent
// whatever SendBudget says and reported as usual. ACK-only packets are not
// in flight: they are neither counted nor paced.
//
// There are two ways to report packets. Controller's aggregated calls
// report each in-flight packet once when sent (OnPacketSent) and the sums
// per ACK frame (OnAck, with the send time of its newest newly
// acknowledged packet), per loss detection pass (OnPacketsLost) and per
// CE increase (OnECNCE). PacketController's per-packet calls, which every
// controller here implements and BBR requires, report each packet. A
// caller uses one or the other, never both for the same packets; NewReno
// and CUBIC behave the same through either (TestPacketCallsMatchAggregated).
//
// # The per-packet calls
//
// This is the contract loss recovery follows with a PacketController:
//
//  1. Sending. For every in-flight packet (ack-eliciting or padding, RFC
//     9002 §2), right after it is sent: OnSent(now, size, &rec.cc), where
//     rec.cc is a PacketState kept in the packet's sent-packet record. The
//     state is 64 bytes and opaque; nothing else writes it. Packets that
//     are not in flight are not reported. Probes are reported like any
//     other packet.
//  2. Before building packets, and when the application writes: if the
//     sender has nothing to send (no new data, no retransmission queued)
//     although SendBudget allowed at least one packet, call
//     OnApplicationLimited().
//  3. For an ACK frame that newly acknowledges packets, steps 3 to 7 in
//     this order. RTTStats.UpdateRTT with the frame's sample, if it gives
//     one (RFC 9002 §5.1), with its ACK Delay.
//  4. OnAcked(now, &rec.cc) for every newly acknowledged in-flight packet,
//     in any order (ascending packet number is natural).
//  5. Loss detection: OnLost(now, &rec.cc) for every in-flight packet it
//     declares lost.
//  6. If those losses establish persistent congestion,
//     OnPersistentCongestion(now), after the OnLost calls (and
//     RTTStats.OnPersistentCongestion, as before).
//  7. OnAckEnd(now, &rtt, newCE), newCE being how much the frame raised
//     the validated ECN-CE count, in packets (0 without ECN). OnECNCE is
//     not called on this path. A frame that newly acknowledges nothing
//     needs no call, except OnAckEnd if it raised the CE count.
//  8. Losses declared by the loss timer: OnLost for each, and nothing
//     else (persistent congestion is established on an ACK, RFC 9002
//     §7.6.2).
//  9. A packet declared lost and acknowledged later may be reported with
//     OnAcked if its record is still at hand: BBR counts it delivered
//     (draft-ietf-ccwg-bbr §2.2), the others ignore it. When every loss of
//     the latest episode proved spurious, call UndoCongestionEvent as
//     before.
//  10. Discarding a packet number space (RFC 9002 Appendix B.9):
//     OnPacketsDiscarded with the sum of its in-flight packets' sizes, and
//     forget their PacketStates.
//  11. SendBudget, SetMaxDatagramSize, RTTStats handling and PTO are
//     unchanged. A PTO itself is no congestion signal.
//
// bytes_in_flight drops at OnAcked for BBR and at OnAckEnd for NewReno
// and CUBIC, and at OnLost for all; after OnAckEnd the controllers agree.
//
// # BBR
//
// BBRController is BBR version 3 as draft-ietf-ccwg-bbr-06 specifies it,
// with the draft's names for its functions and state:
//
//   - The delivery rate sampler of §4.1: per-packet delivered,
//     delivered_time, first_send_time, lost, tx_in_flight,
//     is_app_limited and a packet id in PacketState; rate samples per ACK
//     frame taking the longer of the send and ACK intervals; samples over
//     less than the connection's min_rtt dropped; app-limited bubbles.
//   - The model: max_bw over the current and previous ProbeBW cycle,
//     extra_acked (a windowed max over 10 rounds, 1 in Startup, Kathleen
//     Nichols' algorithm), min_rtt over 10 s integrated with ProbeRTT's
//     5-s probe_rtt_min_delay, the short-term bounds bw_shortterm and
//     inflight_shortterm (Beta 0.7 per round with loss outside probing),
//     the long-term bound inflight_longterm (set on a loss rate above
//     LossThresh 2% while probing, at InflightAtLoss; raised 1, 2, 4, ...
//     packets per round in ProbeBW_UP), Headroom 0.15.
//   - The states: Startup (pacing gain 2.77, cwnd gain 2, left after three
//     rounds below 25% growth or on high loss), Drain (0.5), ProbeBW DOWN
//     (0.9), CRUISE (1.0), REFILL (1.0), UP (1.25, cwnd gain 2.25) with
//     precautionary probing and the probe wait of 2-3 s or min(BDP in
//     packets, 63) rounds, ProbeRTT (cwnd at 0.5 BDP for 200 ms and a round,
//     every 5 s without a lower RTT sample, skipped on a restart from
//     idle).
//   - The control parameters: pacing rate gain*bw*0.99 (only rising until
//     the pipe is full, 2.77*InitialCwnd/srtt at first), send quantum
//     pacing_rate*1 ms within [2*max_datagram_size, 64 KiB] as the
//     pacer's bucket (two quanta at high rates, see below), so also the
//     largest burst SendBudget allows,
//     cwnd from max_inflight (cwnd_gain*BDP + extra_acked, at least the
//     QUIC offload budget = send quantum and MinPipeCwnd 4 packets), grown
//     by at most the bytes acknowledged, bounded per state by the long-
//     and short-term model.
//   - Undo (§5.5.11): UndoCongestionEvent restores cwnd and the bounds and
//     returns to Startup or REFILL if the episode ended them.
//
// QUIC points: C.SMSS is max_datagram_size; QUIC always has selective
// acknowledgments; BBR's RTT samples (RS.rtt) are RTTStats.AdjustedRTT,
// the sample less the peer's ACK Delay as RFC 9002 §5.3 allows for
// smoothed_rtt, so that a delayed acknowledgment does not inflate min_rtt;
// RFC 9002's recovery period is BBR's fast recovery (prior_cwnd saved on
// entry and restored on exit); a PTO declares nothing lost and changes
// nothing, and the draft's response to an RTO (cwnd to what is in flight
// plus one packet, §5.6.4.4) is taken on persistent congestion, never
// below kMinimumWindow.
//
// Choices where the draft leaves room, and departures from it:
//
//   - ECN: the draft requires CE marks to count as congestion but leaves
//     the response open (§3.7). Each CE mark counts as one
//     max_datagram_size lost in C.lost: it enters RS.lost (so the Startup
//     exit and inflight_longterm see it like a loss), marks the round as a
//     round with loss (short-term bounds), and starts a recovery period as
//     in RFC 9002 §7.1. No L4S or DCTCP-style response.
//   - SaveStateUponLoss runs when a recovery period starts, not again at
//     the first loss of each round (NoteLoss): StartProbeBW_DOWN clears
//     is_loss_in_round, so a second save in the same episode would
//     overwrite the state an undo restores.
//   - CheckStartupHighLoss, given in prose only: in recovery for a full
//     packet-timed round, IsInflightTooHigh on this ACK's sample, and at
//     least 6 discontiguous runs of lost packets (or CE reports) in the
//     loss round.
//   - T_reno counts the target inflight in packets (the draft's pseudocode
//     would count bytes).
//   - Pacing is a token bucket of send_quantum refilled at pacing_rate
//     rather than a next_send_time per packet: the same long-run spacing,
//     one GSO burst of at most a quantum at a time. Where the quantum
//     holds BurstPackets or more, a sender the pacer holds back is let go
//     only when a whole quantum (or what the window allows, if less) may
//     leave, as the draft paces TSO segments, and the bucket holds two
//     quanta, so that a late wake-up keeps the credit it earned; below,
//     packet by packet from a bucket of one quantum.
//   - A pacing rate is never set to zero (no bandwidth sample yet): the
//     previous one stays.
//
// Defaults: every constant is the draft's (listed above); Config.Seed
// seeds the random probe wait (a random seed when zero); pacing cannot be
// turned off (Config.DisablePacing is ignored).
//
// quic/internal/recovery makes the per-packet calls for every controller,
// and the connection calls OnApplicationLimited after a burst that
// emptied its queues with budget left; quic.Config.Congestion selects
// BBR.
//
// Not done: ACK frequency requests per phase (§4.1.3.3; the connection
// asks for about four acknowledgments per window whatever the phase),
// pacing offload and receive timestamps (§5.5.8.2, §4.1.3.3), an L4S
// response to ECN. Through the aggregated
// Controller calls BBR only keeps bytes_in_flight; Config.Algorithm (the
// string) does not select it. ProbeRTT takes about 4.5% of a bulk flow's
// time on a fixed-delay path (the draft's constants give at least 3.8%);
// the link time it leaves idle is about 2.5%.
//
// # Limits
//
//   - One OnAck per ACK frame (or one OnAckEnd, on the per-packet path):
//     packets acknowledged together with a packet sent after the recovery
//     period started all count towards growth (Appendix B.5 would skip
//     those sent before, per packet).
//   - Only the latest congestion event can be undone; spurious timeouts
//     (RFC 9438 §4.9.1) do not arise in QUIC, where a PTO declares nothing
//     lost.
//   - HyStart++ is not used after idle periods or by NewReno; no restart
//     window after idle (RFC 7661 is not implemented; the window simply does
//     not grow while unused).
//   - NewReno and CUBIC judge whether the window is used by a heuristic on
//     bytes in flight at ACK time (within 3 datagrams of the window, or half
//     of it in slow start); OnApplicationLimited is BBR's only.
//   - On ECN-CE the window falls no lower than 2*max_datagram_size, as for
//     loss (RFC 9002 §7.2), not to the 1 segment RFC 9438 §4.6 allows.
//   - SetMaxDatagramSize recalculates the window only while it is still the
//     initial window; later it just keeps the window at least the new
//     minimum.
//   - RTT samples are capped at MaxRTTSample, windows at MaxWindow and
//     packet sizes at the largest UDP payload, so that no arithmetic can
//     overflow.
package congestion
