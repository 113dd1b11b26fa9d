package congestion

import "time"

// Undoing spurious congestion events (RFC 9438 §4.9.2). A QUIC sender knows
// a loss was spurious when a packet it declared lost is acknowledged later;
// when every loss behind a congestion event turns out so, loss recovery
// calls UndoCongestionEvent. The controllers save their state just before
// each reduction and restore it then, "if the current cwnd is lower than
// cwnd_prior": a window that has already grown past its old size is kept
// (§4.9.2's rare case).

// windowUndo is the state every controller saves at a congestion event.
type windowUndo struct {
	valid         bool
	cwnd          int
	ssthresh      int
	recoveryStart time.Duration
	inRecovery    bool
}

// saveUndo records the window before a congestion event changes it.
func (w *window) saveUndo() {
	w.undo = windowUndo{
		valid:         true,
		cwnd:          w.cwnd,
		ssthresh:      w.ssthresh,
		recoveryStart: w.recoveryStart,
		inRecovery:    w.inRecovery,
	}
}

// restoreUndo restores the saved window, and with it the recovery period
// that was in force before the event (so that a real loss among the same
// packets still counts as a congestion event), and reports whether it
// did. A saved state is used once.
func (w *window) restoreUndo() bool {
	u := w.undo
	w.undo.valid = false
	if !u.valid || w.cwnd >= u.cwnd {
		return false
	}
	w.cwnd = u.cwnd
	w.ssthresh = u.ssthresh
	w.recoveryStart = u.recoveryStart
	w.inRecovery = u.inRecovery
	w.sendOneExtra = false
	return true
}

// cubicUndo is the rest of CUBIC's state that RFC 9438 §4.9.2 restores:
// cwnd_prior, W_max, K, t_epoch, W_est, with the epoch bookkeeping that goes
// with them, and HyStart++, which the event ended.
type cubicUndo struct {
	wMax, cwndPrior, k float64
	wMaxFromWindow     bool
	epochStarted       bool
	tEpoch             time.Duration
	cwndEpoch, wEst    float64
	lastAckTime        time.Duration
	growth             int
	hystart            hystart
}

func (c *CubicController) saveUndo() {
	c.window.saveUndo()
	c.undo = cubicUndo{
		wMax: c.wMax, cwndPrior: c.cwndPrior, k: c.k,
		wMaxFromWindow: c.wMaxFromWindow,
		epochStarted:   c.epochStarted,
		tEpoch:         c.tEpoch,
		cwndEpoch:      c.cwndEpoch, wEst: c.wEst,
		lastAckTime: c.lastAckTime,
		growth:      c.growth,
		hystart:     c.hystart,
	}
}

// UndoCongestionEvent implements Controller (RFC 9438 §4.9.2).
func (c *CubicController) UndoCongestionEvent() {
	if !c.restoreUndo() {
		return
	}
	u := &c.undo
	c.wMax, c.cwndPrior, c.k = u.wMax, u.cwndPrior, u.k
	c.wMaxFromWindow = u.wMaxFromWindow
	c.epochStarted = u.epochStarted
	c.tEpoch = u.tEpoch
	c.cwndEpoch, c.wEst = u.cwndEpoch, u.wEst
	c.lastAckTime = u.lastAckTime
	c.growth = u.growth
	c.hystart = u.hystart
}
