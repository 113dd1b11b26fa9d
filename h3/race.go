package h3

import "net/http"

// roundTripDiscover sends req in ModeAuto or ModeRace.
func (t *Transport) roundTripDiscover(req *http.Request, origin Origin) (*http.Response, error) {
	return t.tcp.RoundTrip(req)
}
