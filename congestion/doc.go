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
//   - RFC 9002 §7.7: a pacer, a leaky bucket of BurstPackets (10) packets
//     refilled at N*cwnd/smoothed_rtt, N = 2 while in slow start (so the
//     pacer never limits the doubling) and 5/4 otherwise, in integer bytes
//     and nanoseconds. Controller.SendBudget combines it with the window into
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
// # Division of work with the connection
//
// The Controller keeps bytes_in_flight: the connection reports every
// in-flight packet once when sent (OnPacketSent) and once when acknowledged
// (OnAck, per ACK frame, with the send time of its newest newly acknowledged
// packet), lost (OnPacketsLost) or discarded with its packet number space
// (OnPacketsDiscarded). Loss detection, and the persistent congestion
// verdict of RFC 9002 §7.6.2, stay with the connection's loss recovery,
// which has the sent-packet records; it passes the verdict to OnPacketsLost
// and calls RTTStats.OnPersistentCongestion. ECN validation (RFC 9000
// §13.4.2) is the connection's too: it calls OnECNCE when the peer's CE
// count grows. Probe packets (RFC 9002 §7.5) are sent whatever SendBudget
// says and reported as usual. ACK-only packets are reported with inFlight
// false and are neither counted nor paced.
//
// # Limits
//
//   - One OnAck per ACK frame: packets acknowledged together with a packet
//     sent after the recovery period started all count towards growth
//     (Appendix B.5 would skip those sent before, per packet).
//   - Only the latest congestion event can be undone; spurious timeouts
//     (RFC 9438 §4.9.1) do not arise in QUIC, where a PTO declares nothing
//     lost.
//   - HyStart++ is not used after idle periods or by NewReno; no restart
//     window after idle (RFC 7661 is not implemented; the window simply does
//     not grow while unused).
//   - The application-limited test is a heuristic on bytes in flight at ACK
//     time (within 3 datagrams of the window, or half of it in slow start);
//     there is no explicit "application limited" call yet.
//   - On ECN-CE the window falls no lower than 2*max_datagram_size, as for
//     loss (RFC 9002 §7.2), not to the 1 segment RFC 9438 §4.6 allows.
//   - SetMaxDatagramSize recalculates the window only while it is still the
//     initial window; later it just keeps the window at least the new
//     minimum.
//   - RTT samples are capped at MaxRTTSample and windows at MaxWindow so
//     that no arithmetic can overflow.
package congestion
