package congestion

import (
	"math/rand/v2"
	"time"
)

// A deterministic bottleneck simulator: senders driven by a
// PacketController, a drop-tail FIFO link with a rate, a buffer in packets
// and seeded random loss, receivers that acknowledge every second packet,
// all under synthetic time. There is no event heap: each flow's deliveries
// and acknowledgments are FIFO queues (the link keeps order and a flow's
// delays only ever grow), so the next event is the minimum over a handful
// of queue heads and timers.
//
// The sender sees what a QUIC sender sees: an ACK frame acknowledges
// packets one by one (each received packet up to the largest, as ACK
// ranges would), carries the ACK Delay and the ECN-CE count, and loss
// recovery declares packets lost one by one (RFC 9002 §6.1). Each
// acknowledged or lost packet is reported with the PacketState its send
// filled, so BBR's delivery rate sampler works on exactly the per-packet
// information it would have in a connection.

const (
	simPacketSize  = 1500
	simMaxAckDelay = 25 * time.Millisecond
	// simAckEvery: by default the receiver acknowledges every second
	// ack-eliciting packet (RFC 9000 §13.2.2), and always immediately on a
	// gap (§13.2.1).
	simAckEvery = 2
	// RFC 9002 §6.1.1 kPacketThreshold and §6.1.2 kTimeThreshold = 9/8.
	simPacketThreshold = 3
)

type simLink struct {
	bitsPerSecond int64
	bufferPackets int
	lossRate      float64
	// ecnThreshold, if set, makes the link an ECN-capable step AQM: a
	// packet that finds at least this many packets queued is marked CE
	// instead of waiting for the buffer to overflow (RFC 3168).
	ecnThreshold int
	ceMarks      int
	// Everything offered in [outageFrom, outageTo) is lost: a blackhole.
	outageFrom, outageTo time.Duration
	outageDrops          int
	// rateSteps change bitsPerSecond at the given times, in order.
	rateSteps []simRateStep
	rng       *rand.Rand
	// departures of the packets in the buffer (the one in service
	// included), oldest first.
	departures    []time.Duration
	head          int
	lastDeparture time.Duration
	randomDrops   int
	queueDrops    int
	// delays is a histogram of the queueing delay of the packets offered
	// from delayFrom on, in delayBin steps.
	delays    []int64
	delayFrom time.Duration
}

type simRateStep struct {
	at            time.Duration
	bitsPerSecond int64
}

// delayBin is the resolution of the queueing delay histogram.
const delayBin = 100 * time.Microsecond

func (l *simLink) txTime(bytes int) time.Duration {
	return time.Duration(int64(bytes) * 8 * int64(time.Second) / l.bitsPerSecond)
}

// occupancy drains the packets gone by now and returns how many remain.
func (l *simLink) occupancy(now time.Duration) int {
	for l.head < len(l.departures) && l.departures[l.head] <= now {
		l.head++
	}
	if l.head > 4096 && l.head*2 > len(l.departures) {
		n := copy(l.departures, l.departures[l.head:])
		l.departures = l.departures[:n]
		l.head = 0
	}
	return len(l.departures) - l.head
}

// enqueue offers a packet at now; it returns its departure time and
// whether it was marked CE, or false if it was dropped.
func (l *simLink) enqueue(now time.Duration, bytes int) (dep time.Duration, ce, ok bool) {
	for len(l.rateSteps) > 0 && l.rateSteps[0].at <= now {
		l.bitsPerSecond = l.rateSteps[0].bitsPerSecond
		l.rateSteps = l.rateSteps[1:]
	}
	if now >= l.outageFrom && now < l.outageTo {
		l.outageDrops++
		return 0, false, false
	}
	if l.lossRate > 0 && l.rng.Float64() < l.lossRate {
		l.randomDrops++
		return 0, false, false
	}
	q := l.occupancy(now)
	if q >= l.bufferPackets {
		l.queueDrops++
		return 0, false, false
	}
	if l.ecnThreshold > 0 && q >= l.ecnThreshold {
		ce = true
		l.ceMarks++
	}
	start := max(now, l.lastDeparture)
	if now >= l.delayFrom {
		bin := int((start - now) / delayBin)
		for len(l.delays) <= bin {
			l.delays = append(l.delays, 0)
		}
		l.delays[bin]++
	}
	dep = start + l.txTime(bytes)
	l.lastDeparture = dep
	l.departures = append(l.departures, dep)
	return dep, ce, true
}

type simPacket struct {
	sentTime time.Duration
	size     int
	received bool
	done     bool // acknowledged or declared lost
	cc       PacketState
}

type simEvent struct {
	at time.Duration
	pn uint64
	ce bool // a delivered packet's ECN-CE mark
	// For acknowledgments: the ACK Delay field and the ECN-CE count
	// (RFC 9000 §19.3.2).
	ackDelay time.Duration
	ceCount  int
}

type simQueue struct {
	items []simEvent
	head  int
}

func (q *simQueue) push(e simEvent) { q.items = append(q.items, e) }
func (q *simQueue) empty() bool     { return q.head == len(q.items) }
func (q *simQueue) peek() simEvent  { return q.items[q.head] }
func (q *simQueue) pop() simEvent {
	e := q.items[q.head]
	q.head++
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		q.items = q.items[:n]
		q.head = 0
	}
	return e
}

type simFlow struct {
	cc     PacketController
	rtt    RTTStats
	oneWay time.Duration
	start  time.Duration
	// delaySteps raise oneWay at the given times, in order (a route
	// change); lowering it would break the queues' order.
	delaySteps []simDelayStep

	started bool
	// sender
	sent         []simPacket // sent[i] is packet number base+i
	base         uint64
	nextPN       uint64
	scan         uint64 // lowest packet number not yet acknowledged or lost
	largestAcked int64
	lastSentTime time.Duration
	nextSend     time.Duration
	ptoCount     uint
	lossTime     time.Duration // time-threshold loss timer, Never if unset
	ceSeen       int           // largest ECN-CE count the peer reported

	// An application that writes appChunk packets every appPeriod; zero
	// appChunk is a bulk transfer that always has data.
	appChunk  int
	appPeriod time.Duration
	appNext   time.Duration
	backlog   int

	// receiver
	deliveries     simQueue
	acks           simQueue
	rcvLargest     int64
	rcvLargestTime time.Duration
	rcvUnacked     int
	ackTimer       time.Duration
	rcvCECount     int
	// ackEvery is how many packets the receiver lets arrive before it
	// acknowledges; more than 2 models ACK frequency negotiation or ACK
	// aggregation on the return path, which makes an unpaced sender bursty.
	ackEvery int

	// statistics
	binSize         time.Duration
	bins            []int64 // bytes delivered to the receiver per bin
	sentBins        []int64 // bytes sent per bin
	deliveredBytes  int64
	lost            int
	persistentCount int
	maxCwnd         int
	maxInFlight     int
	// bbrStates counts the queue samples (from sim.sampleFrom on) taken in
	// each BBR state, for a BBR flow, and bbrIdle those of them that found
	// the link idle.
	bbrStates, bbrIdle [bbrNoState + 1]int64
}

type simDelayStep struct {
	at     time.Duration
	oneWay time.Duration
}

// delay is the one-way delay at now.
func (f *simFlow) delay(now time.Duration) time.Duration {
	for len(f.delaySteps) > 0 && f.delaySteps[0].at <= now {
		f.oneWay = max(f.oneWay, f.delaySteps[0].oneWay)
		f.delaySteps = f.delaySteps[1:]
	}
	return f.oneWay
}

func newSimFlow(cc PacketController, baseRTT, start, binSize time.Duration) *simFlow {
	f := &simFlow{
		cc:           cc,
		oneWay:       baseRTT / 2,
		start:        start,
		largestAcked: -1,
		rcvLargest:   -1,
		nextSend:     Never,
		lossTime:     Never,
		ackTimer:     Never,
		binSize:      binSize,
		ackEvery:     simAckEvery,
	}
	f.rtt.SetMaxAckDelay(simMaxAckDelay)
	return f
}

func (f *simFlow) packet(pn uint64) *simPacket { return &f.sent[pn-f.base] }

type simEventKind int

const (
	evNone simEventKind = iota
	evStart
	evDelivery
	evAck
	evAckTimer
	evSend
	evTimer
	evApp
	evSample
)

// timer is the loss detection timer: time-threshold loss, or else the PTO
// (RFC 9002 §6.2.1) from the last ack-eliciting packet sent.
func (f *simFlow) timer() time.Duration {
	if f.lossTime != Never {
		return f.lossTime
	}
	if f.cc.BytesInFlight() == 0 {
		return Never
	}
	return f.lastSentTime + f.rtt.PTO(true)<<min(f.ptoCount, 16)
}

func (f *simFlow) nextEvent() (time.Duration, simEventKind) {
	if !f.started {
		return f.start, evStart
	}
	t, k := f.nextSend, evSend
	if !f.deliveries.empty() && f.deliveries.peek().at < t {
		t, k = f.deliveries.peek().at, evDelivery
	}
	if !f.acks.empty() && f.acks.peek().at < t {
		t, k = f.acks.peek().at, evAck
	}
	if f.ackTimer < t {
		t, k = f.ackTimer, evAckTimer
	}
	if tt := f.timer(); tt < t {
		t, k = tt, evTimer
	}
	if f.appChunk > 0 && f.appNext < t {
		t, k = f.appNext, evApp
	}
	return t, k
}

type sim struct {
	now   time.Duration
	link  simLink
	flows []*simFlow
	// queue sampling
	sampleEvery  time.Duration
	nextSample   time.Duration
	sampleFrom   time.Duration
	queueSum     int64
	queueSamples int64
	maxQueue     int
}

func newSim(bitsPerSecond int64, bufferPackets int, lossRate float64, seed uint64) *sim {
	return &sim{
		link: simLink{
			bitsPerSecond: bitsPerSecond,
			bufferPackets: bufferPackets,
			lossRate:      lossRate,
			rng:           rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		},
		sampleEvery: time.Millisecond,
	}
}

func (s *sim) run(until time.Duration) {
	for {
		t, kind, fi := s.nextSample, evSample, -1
		for i, f := range s.flows {
			if ft, fk := f.nextEvent(); ft < t {
				t, kind, fi = ft, fk, i
			}
		}
		if t > until {
			return
		}
		s.now = t
		if fi < 0 {
			q := s.link.occupancy(t)
			if t >= s.sampleFrom {
				s.queueSum += int64(q)
				s.queueSamples++
				s.maxQueue = max(s.maxQueue, q)
				for _, f := range s.flows {
					if b, ok := f.cc.(*BBRController); ok && f.started {
						f.bbrStates[b.state]++
						if q == 0 {
							f.bbrIdle[b.state]++
						}
					}
				}
			}
			s.nextSample += s.sampleEvery
			continue
		}
		f := s.flows[fi]
		switch kind {
		case evStart:
			f.started = true
			f.appNext = s.now
			s.trySend(f)
		case evDelivery:
			s.deliver(f, f.deliveries.pop())
		case evAck:
			s.onAck(f, f.acks.pop())
		case evAckTimer:
			s.sendAck(f)
		case evSend:
			s.trySend(f)
		case evTimer:
			s.onTimer(f)
		case evApp:
			f.backlog += f.appChunk
			f.appNext += f.appPeriod
			s.trySend(f)
		}
	}
}

// trySend sends as many packets as the controller allows now.
func (s *sim) trySend(f *simFlow) {
	for {
		n, next := f.cc.SendBudget(s.now)
		appLimited := f.appChunk > 0 && f.backlog < n
		if appLimited {
			n, next = f.backlog, Never
		}
		for range n {
			s.sendPacket(f)
		}
		if appLimited {
			// Out of data while the budget allowed more
			// (draft-ietf-ccwg-bbr §4.1.2.4).
			f.cc.OnApplicationLimited()
		}
		if n == 0 || appLimited {
			f.nextSend = next
			return
		}
	}
}

func (s *sim) sendPacket(f *simFlow) {
	pn := f.nextPN
	f.nextPN++
	f.sent = append(f.sent, simPacket{sentTime: s.now, size: simPacketSize})
	f.lastSentTime = s.now
	f.backlog = max(f.backlog-1, 0)
	f.cc.OnSent(s.now, simPacketSize, &f.packet(pn).cc)
	sbin := int(s.now / f.binSize)
	for len(f.sentBins) <= sbin {
		f.sentBins = append(f.sentBins, 0)
	}
	f.sentBins[sbin] += simPacketSize
	f.maxCwnd = max(f.maxCwnd, f.cc.CongestionWindow())
	f.maxInFlight = max(f.maxInFlight, f.cc.BytesInFlight())
	if dep, ce, ok := s.link.enqueue(s.now, simPacketSize); ok {
		f.deliveries.push(simEvent{at: dep + f.delay(s.now), pn: pn, ce: ce})
		bin := int(dep / f.binSize)
		for len(f.bins) <= bin {
			f.bins = append(f.bins, 0)
		}
		f.bins[bin] += simPacketSize
		f.deliveredBytes += simPacketSize
	}
}

// deliver is the receiver getting a packet (RFC 9000 §13.2).
func (s *sim) deliver(f *simFlow, e simEvent) {
	f.packet(e.pn).received = true
	if e.ce {
		f.rcvCECount++
	}
	gap := int64(e.pn) != f.rcvLargest+1
	f.rcvLargest = int64(e.pn)
	f.rcvLargestTime = s.now
	f.rcvUnacked++
	if gap || f.rcvUnacked >= f.ackEvery {
		s.sendAck(f)
		return
	}
	if f.ackTimer == Never {
		f.ackTimer = s.now + simMaxAckDelay
	}
}

func (s *sim) sendAck(f *simFlow) {
	f.ackTimer = Never
	if f.rcvUnacked == 0 {
		return
	}
	f.rcvUnacked = 0
	f.acks.push(simEvent{at: s.now + f.delay(s.now), pn: uint64(f.rcvLargest), ackDelay: s.now - f.rcvLargestTime, ceCount: f.rcvCECount})
}

// onAck is the sender's loss recovery for one ACK frame (RFC 9002 §5.1,
// §6.1, Appendix A.7), feeding the controller through the per-packet
// calls in the order the package documentation prescribes.
func (s *sim) onAck(f *simFlow, e simEvent) {
	if int64(e.pn) <= f.largestAcked {
		return
	}
	f.largestAcked = int64(e.pn)
	for pn := f.scan; pn <= e.pn; pn++ {
		p := f.packet(pn)
		if p.done || !p.received {
			continue
		}
		p.done = true
		f.cc.OnAcked(s.now, &p.cc)
	}
	// e.pn is above every packet declared lost so far (losses are only
	// declared below the largest acknowledged), so it is still stored.
	f.rtt.UpdateRTT(s.now, s.now-f.packet(e.pn).sentTime, e.ackDelay, true)
	newCE := 0
	if e.ceCount > f.ceSeen {
		newCE, f.ceSeen = e.ceCount-f.ceSeen, e.ceCount
	}
	s.detectLosses(f, true)
	f.cc.OnAckEnd(s.now, &f.rtt, newCE)
	f.ptoCount = 0
	s.trySend(f)
}

// detectLosses declares lost the unacknowledged packets below the largest
// acknowledged one that are kPacketThreshold behind it or older than the
// time threshold (RFC 9002 §6.1), and, on an ACK, decides persistent
// congestion over the run of consecutive losses (§7.6.2).
func (s *sim) detectLosses(f *simFlow, onAck bool) {
	f.lossTime = Never
	if f.largestAcked < 0 {
		return
	}
	lossDelay := max(f.rtt.SmoothedRTT(), f.rtt.LatestRTT()) * 9 / 8
	lossDelay = max(lossDelay, Granularity)
	var runStart time.Duration
	inRun := false
	persistent := false
	pcDuration := f.rtt.PersistentCongestionDuration()
	first := f.rtt.FirstSampleTime()
	for pn := f.scan; pn < uint64(f.largestAcked); pn++ {
		p := f.packet(pn)
		if p.done {
			if p.received {
				inRun = false
			}
			continue
		}
		if p.received {
			inRun = false
			continue
		}
		if uint64(f.largestAcked)-pn >= simPacketThreshold || p.sentTime <= s.now-lossDelay {
			p.done = true
			f.lost++
			f.cc.OnLost(s.now, &p.cc)
			if p.sentTime > first {
				if !inRun {
					inRun, runStart = true, p.sentTime
				} else if p.sentTime-runStart > pcDuration {
					persistent = true
				}
			}
			continue
		}
		// Not yet lost: the time threshold will tell.
		if t := p.sentTime + lossDelay; t < f.lossTime {
			f.lossTime = t
		}
		inRun = false
	}
	for f.scan < f.nextPN && f.packet(f.scan).done {
		f.scan++
	}
	if d := f.scan - f.base; d > 4096 && int(d)*2 > len(f.sent) {
		n := copy(f.sent, f.sent[d:])
		f.sent = f.sent[:n]
		f.base = f.scan
	}
	if persistent && onAck {
		f.cc.OnPersistentCongestion(s.now)
		f.persistentCount++
		f.rtt.OnPersistentCongestion()
	}
}

func (s *sim) onTimer(f *simFlow) {
	if f.lossTime != Never {
		s.detectLosses(f, false)
		s.trySend(f)
		return
	}
	// PTO (RFC 9002 §6.2.4): two probe packets, whatever the window says.
	f.ptoCount++
	s.sendPacket(f)
	s.sendPacket(f)
	s.trySend(f)
}

// utilization returns the share of the link's capacity that the flows used
// in the whole bins (one base RTT each) between from and to.
func (s *sim) utilization(from, to time.Duration) float64 {
	var bytes int64
	var span time.Duration
	for _, f := range s.flows {
		var b int64
		b, span = f.bytesBetween(from, to)
		bytes += b
	}
	capacity := float64(s.link.bitsPerSecond) / 8 * span.Seconds()
	return float64(bytes) / capacity
}

// bytesBetween returns the bytes f delivered in its whole bins between from
// and to, and the time those bins span.
func (f *simFlow) bytesBetween(from, to time.Duration) (int64, time.Duration) {
	var b int64
	first, end := int((from+f.binSize-1)/f.binSize), int(to/f.binSize)
	for i := first; i < end && i < len(f.bins); i++ {
		b += f.bins[i]
	}
	return b, time.Duration(end-first) * f.binSize
}

// firstBinAbove returns the first of f's bins in which the link carried at
// least frac of its capacity; -1 if none.
func (s *sim) firstBinAbove(f *simFlow, frac float64) int {
	perBin := float64(s.link.bitsPerSecond) / 8 * f.binSize.Seconds()
	for i, b := range f.bins {
		if float64(b) >= frac*perBin {
			return i
		}
	}
	return -1
}

func (s *sim) averageQueue() float64 {
	if s.queueSamples == 0 {
		return 0
	}
	return float64(s.queueSum) / float64(s.queueSamples)
}

// jainIndex is Jain's fairness index (sum x)^2 / (n * sum x^2).
func jainIndex(x ...float64) float64 {
	var sum, sq float64
	for _, v := range x {
		sum += v
		sq += v * v
	}
	if sq == 0 {
		return 0
	}
	return sum * sum / (float64(len(x)) * sq)
}
