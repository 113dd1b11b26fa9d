package streambuf

// PeerReset reports whether the peer reset the stream (RESET_STREAM,
// RFC 9000 §19.4) before its FIN was read, and with which code.
func (p *RecvPart) PeerReset() (code uint64, reset bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resetCode, p.reset
}

// PeerStopped reports whether the peer asked us to stop sending
// (STOP_SENDING, RFC 9000 §19.5), and with which code.
func (p *SendPart) PeerStopped() (code uint64, stopped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopCode, p.stopped
}
