package tls13

// Per-connection hooks a QUIC server sets before Start. They let the
// transport decide, from what the ClientHello brings, what it answers
// with: RFC 9368 compatible version negotiation changes the server's
// transport parameters, and RFC 9369 §5 and RFC 9000 §7.4.1 restrict which
// tickets resume and which allow 0-RTT.

// SetTransportParametersFunc sets, on a server, a function called with
// the client's transport parameters as soon as the ClientHello is read,
// before anything is sent in answer. It returns the transport parameters
// to send instead of those given to Server (nil keeps them), or an error
// that aborts the handshake: HandleData returns it unchanged, so a QUIC
// transport error keeps its code. QUIC uses it for compatible version
// negotiation (RFC 9368 §2.3), whose outcome the server's
// version_information announces. Session tickets issued later remember
// the parameters returned, unless SetTicketAppData says otherwise.
func (c *Conn) SetTransportParametersFunc(f func(clientParams []byte) ([]byte, error)) {
	c.paramsFunc = f
}

// SetTicketFunc sets, on a server, a function that sees the application
// data of each ticket the client offers (see SetTicketAppData) once the
// ticket has opened and is fresh. resume false refuses the ticket (the
// handshake goes on without it: a full handshake unless another ticket
// serves); early false refuses 0-RTT with it, as Config.AcceptEarlyData
// does, which also still applies. QUIC refuses tickets of another QUIC
// version (RFC 9369 §5) and 0-RTT when the transport parameters the
// ticket remembers promise more than the server's current ones (RFC 9000
// §7.4.1).
func (c *Conn) SetTicketFunc(f func(ticketAppData []byte) (resume, early bool)) {
	c.ticketFunc = f
}

// applyParamsFunc runs the transport parameters hook on the client's
// parameters.
func (c *Conn) applyParamsFunc(clientParams []byte) error {
	if c.paramsFunc == nil {
		return nil
	}
	p, err := c.paramsFunc(clientParams)
	if err != nil {
		return err
	}
	if p != nil {
		c.localParams = p
	}
	return nil
}

// checkTicket runs the ticket hook.
func (c *Conn) checkTicket(appData []byte) (resume, early bool) {
	if c.ticketFunc == nil {
		return true, true
	}
	return c.ticketFunc(appData)
}
