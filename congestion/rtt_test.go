package congestion

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestRTTZeroValueUsesInitialRTT(t *testing.T) {
	var r RTTStats
	if r.HasSample() || r.SmoothedRTT() != 333*ms || r.RTTVar() != 333*ms/2 {
		t.Fatalf("zero value: smoothed %v rttvar %v", r.SmoothedRTT(), r.RTTVar())
	}
	// RFC 9002 §6.2.2: a 333 ms initial RTT gives a PTO of about 1 second.
	if got := r.PTO(false); got != 333*ms+4*(333*ms/2) {
		t.Fatalf("PTO = %v", got)
	}
	r.SetInitialRTT(100 * ms)
	if r.SmoothedRTT() != 100*ms || r.RTTVar() != 50*ms {
		t.Fatalf("after SetInitialRTT: smoothed %v rttvar %v", r.SmoothedRTT(), r.RTTVar())
	}
}

// TestRTTEstimator follows RFC 9002 §5.2 and §5.3 sample by sample.
func TestRTTEstimator(t *testing.T) {
	var r RTTStats
	r.SetMaxAckDelay(25 * ms)

	// First sample: smoothed_rtt = latest_rtt, rttvar = latest_rtt / 2,
	// min_rtt = latest_rtt; the ACK delay is not used.
	r.UpdateRTT(1000*ms, 100*ms, 40*ms, true)
	check := func(step string, latest, min, smoothed, rttvar time.Duration) {
		t.Helper()
		if r.LatestRTT() != latest || r.MinRTT() != min || r.SmoothedRTT() != smoothed || r.RTTVar() != rttvar {
			t.Fatalf("%s: latest %v min %v smoothed %v rttvar %v; want %v %v %v %v",
				step, r.LatestRTT(), r.MinRTT(), r.SmoothedRTT(), r.RTTVar(), latest, min, smoothed, rttvar)
		}
	}
	check("first sample", 100*ms, 100*ms, 100*ms, 50*ms)
	if r.FirstSampleTime() != 1000*ms {
		t.Fatalf("first sample time %v", r.FirstSampleTime())
	}

	// Second: latest 120, ack_delay 10 <= max_ack_delay; 120 >= 100 + 10 so
	// adjusted_rtt = 110. smoothed = 7/8*100 + 1/8*110 = 101.25;
	// rttvar = 3/4*50 + 1/4*|101.25-110| = 37.5 + 2.1875 = 39.6875.
	r.UpdateRTT(1100*ms, 120*ms, 10*ms, true)
	check("second sample", 120*ms, 100*ms, 101250*time.Microsecond, 39687500*time.Nanosecond)

	// Third: ack_delay 100 is limited to max_ack_delay 25 once the handshake
	// is confirmed: adjusted = 200 - 25 = 175.
	// smoothed = 101.25 - 101.25/8 + 175/8 = 88.59375 + 21.875 = 110.46875
	// rttvar = 39.6875 - 39.6875/4 + |110.46875 - 175|/4
	//        = 29.765625 + 16.1328125 = 45.8984375
	r.UpdateRTT(1200*ms, 200*ms, 100*ms, true)
	check("ack delay limited by max_ack_delay", 200*ms, 100*ms, 110468750*time.Nanosecond, 45898437*time.Nanosecond) // 45.8984375 truncated to the nanosecond

	// Before confirmation max_ack_delay is ignored (SHOULD), but the delay
	// is still not subtracted below min_rtt: 105 < 100 + 10, so adjusted =
	// latest = 105.
	var u RTTStats
	u.SetMaxAckDelay(5 * ms)
	u.UpdateRTT(0, 100*ms, 0, false)
	u.UpdateRTT(0, 150*ms, 40*ms, false) // adjusted 110: delay 40 not limited to 5
	want := 100*ms - 100*ms/8 + 110*ms/8
	if u.SmoothedRTT() != want {
		t.Fatalf("unconfirmed: smoothed %v, want %v", u.SmoothedRTT(), want)
	}
	var v RTTStats
	v.UpdateRTT(0, 100*ms, 0, true)
	v.SetMaxAckDelay(25 * ms)
	v.UpdateRTT(0, 105*ms, 10*ms, true)
	if want := 100*ms - 100*ms/8 + 105*ms/8; v.SmoothedRTT() != want {
		t.Fatalf("delay below min_rtt: smoothed %v, want %v", v.SmoothedRTT(), want)
	}

	// min_rtt follows the smallest sample and ignores ack delay.
	r.UpdateRTT(1300*ms, 90*ms, 50*ms, true)
	if r.MinRTT() != 90*ms {
		t.Fatalf("min_rtt %v", r.MinRTT())
	}
	// RFC 9002 §5.2: after persistent congestion min_rtt is the newest
	// sample.
	r.UpdateRTT(1400*ms, 300*ms, 0, true)
	r.OnPersistentCongestion()
	if r.MinRTT() != 300*ms {
		t.Fatalf("min_rtt after persistent congestion %v", r.MinRTT())
	}
	if r.Samples() != 5 {
		t.Fatalf("samples %d", r.Samples())
	}
	r.Reset()
	if r.HasSample() || r.SmoothedRTT() != InitialRTT || r.MaxAckDelay() != 25*ms {
		t.Fatalf("after Reset: %+v", r)
	}
}

// TestPersistentCongestionDuration uses RFC 9002 §7.6.1's formula.
func TestPersistentCongestionDuration(t *testing.T) {
	var r RTTStats
	r.SetMaxAckDelay(25 * ms)
	r.UpdateRTT(0, 100*ms, 0, true) // smoothed 100, rttvar 50
	// (100 + max(4*50, 1) + 25) * 3 = 975 ms
	if got := r.PersistentCongestionDuration(); got != 975*ms {
		t.Fatalf("duration %v, want 975ms", got)
	}
	// kGranularity floor on 4*rttvar.
	var s RTTStats
	s.UpdateRTT(0, 100*time.Microsecond, 0, true) // rttvar 50µs, 4*rttvar 200µs < 1ms
	if got := s.PTO(false); got != 100*time.Microsecond+Granularity {
		t.Fatalf("PTO %v", got)
	}
}

func TestRTTRejectsAbsurdInput(t *testing.T) {
	var r RTTStats
	r.UpdateRTT(0, -time.Second, 0, true)
	if r.HasSample() {
		t.Fatal("negative sample taken")
	}
	r.SetMaxAckDelay(Never)
	r.UpdateRTT(0, Never, Never, true)
	r.UpdateRTT(0, Never, Never, true)
	if r.LatestRTT() != MaxRTTSample || r.PersistentCongestionDuration() <= 0 {
		t.Fatalf("latest %v, duration %v", r.LatestRTT(), r.PersistentCongestionDuration())
	}
}
