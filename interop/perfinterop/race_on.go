//go:build race

package perfinterop

// raceEnabled: the in-process quic-go peer runs under the race detector,
// several times slower, so the transfers are smaller (see transferBytes).
const raceEnabled = true
