package endpoint

import "sort"

// TestCases are the TESTCASE values the runner gives endpoints. Several
// of the runner's tests share one: longrtt runs "handshake"; multiplexing,
// blackhole, amplificationlimit, transferloss, transfercorruption, ipv6,
// the rebinding tests, goodput and crosstraffic run "transfer"; keyupdate
// gives the server "transfer" and connectionmigration gives the client
// "transfer"; handshakeloss and handshakecorruption run "multiconnect".
var TestCases = []string{
	"handshake", "transfer", "chacha20", "retry", "resumption", "zerortt",
	"http3", "multiconnect", "keyupdate", "ecn", "v2", "connectionmigration",
}

// Support says whether an implementation handles a test case in each
// role, and if not, why not (shown next to "unsupported").
type Support struct {
	Client, Server bool
	// Missing names the feature a role lacks, for the report.
	Missing string
}

// Both is supported in both roles.
var Both = Support{Client: true, Server: true}

// Table is an implementation's test cases: the single place to edit when
// a feature lands. A test case it does not list is unsupported.
type Table map[string]Support

// Supports reports whether role handles testcase.
func (t Table) Supports(role Role, testcase string) bool {
	s, ok := t[testcase]
	if !ok {
		return false
	}
	if role == Client {
		return s.Client
	}
	return s.Server
}

// Unsupported lists the known test cases a role does not handle, sorted,
// each with what is missing.
func (t Table) Unsupported(role Role) map[string]string {
	out := map[string]string{}
	for _, tc := range TestCases {
		if !t.Supports(role, tc) {
			out[tc] = t[tc].Missing
		}
	}
	return out
}

// Names returns the table's test cases, sorted.
func (t Table) Names() []string {
	var names []string
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
