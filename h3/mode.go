package h3

import (
	"fmt"
	"strings"
)

// Mode selects the protocols a Transport uses to reach an https origin.
type Mode int

const (
	// ModeAuto (the zero value) uses TCP (HTTP/1.1 or HTTP/2) until the
	// origin advertises HTTP/3, in an Alt-Svc header field or an HTTPS DNS
	// record; from then on it uses HTTP/3, raced against TCP, until the
	// alternative expires, is cleared or fails.
	ModeAuto Mode = iota
	// ModeTCP uses TCP only: HTTP/3 is off.
	ModeTCP
	// ModeRace tries QUIC on the origin's own host and port from the first
	// request on (and any advertised alternative once known), raced against
	// TCP: curl's --http3.
	ModeRace
	// ModeHTTP3Only uses HTTP/3 on the origin's host and port and never
	// TCP: curl's --http3-only.
	ModeHTTP3Only
)

var modeNames = [...]string{ModeAuto: "auto", ModeTCP: "tcp", ModeRace: "race", ModeHTTP3Only: "h3only"}

// String returns the mode's name as ParseMode accepts it.
func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode returns the mode named s: "auto", "tcp" (also "off"), "race"
// or "h3only" (also "only", "http3-only"), case-insensitively.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "auto", "":
		return ModeAuto, nil
	case "tcp", "off":
		return ModeTCP, nil
	case "race":
		return ModeRace, nil
	case "h3only", "only", "http3-only", "h3-only":
		return ModeHTTP3Only, nil
	}
	return 0, fmt.Errorf("h3: unknown mode %q (want auto, tcp, race or h3only)", s)
}
