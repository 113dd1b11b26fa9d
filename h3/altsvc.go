package h3

import (
	"net/http"
	"strconv"
)

// altSvcMaxAge is the freshness lifetime advertised for the alternative,
// 24 hours (RFC 7838 §3.1's default, written out).
const altSvcMaxAge = 86400

// SetAltSvc adds to h the Alt-Svc field that advertises HTTP/3 on UDP port
// port of the same host (RFC 7838 §3, RFC 9114 §3.1.1):
// `h3=":port"; ma=86400`.
func SetAltSvc(h http.Header, port int) {
	h.Add("Alt-Svc", `h3=":`+strconv.Itoa(port)+`"; ma=`+strconv.Itoa(altSvcMaxAge))
}

// AltSvcHandler wraps the handler of a TCP (HTTP/1.1 or HTTP/2) server so
// that its responses advertise HTTP/3 on UDP port port, letting clients
// discover it (RFC 9114 §3.1.1).
func AltSvcHandler(h http.Handler, port int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 3 {
			SetAltSvc(w.Header(), port)
		}
		h.ServeHTTP(w, r)
	})
}
