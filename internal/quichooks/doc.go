// Package quichooks joins h3 to package quic where the public API would
// cost the packet path: h3's server learns that a request stream is over
// for the peer (reset, stopped, the connection gone) through a watcher
// that quic calls on its driver goroutine, instead of a Context and a
// context.AfterFunc per stream (eight allocations a request); it
// learns the client's stream limit, to check PRIORITY_UPDATE frames
// against (RFC 9218 §7.2), which quic's API does not show; and it writes
// its QPACK decoder stream without waiting (WriteNoWait). quic sets
// the hooks at init; nothing outside the module can import it, so it adds
// nothing to quic's API. No RFC behaviour lives here.
package quichooks
