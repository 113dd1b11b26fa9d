package endpoint

import (
	"fmt"
	"net/url"
	"strings"
)

// Role is the side an endpoint plays.
type Role string

// The two roles of the runner's ROLE variable.
const (
	Client Role = "client"
	Server Role = "server"
)

// ExitUnsupported is the exit code that tells the runner a test case is not
// supported: it reports the pair as "unsupported" rather than failed.
const ExitUnsupported = 127

// Env is the runner's environment for one run of an endpoint. The names
// are the runner's; the directories and the listening address, fixed
// inside the runner's containers, can be moved by environment so that the
// endpoint runs anywhere.
type Env struct {
	Role     Role
	TestCase string
	// Requests are the client's URLs (REQUESTS, space-separated).
	Requests []*url.URL
	// KeyLogFile receives every TLS secret in the NSS key log format
	// (SSLKEYLOGFILE); empty for none.
	KeyLogFile string
	// QlogDir receives one qlog file per connection (QLOGDIR); empty for none.
	QlogDir string

	// WWW is the directory the server serves (WWW_DIR, default /www).
	WWW string
	// Downloads is where the client saves files (DOWNLOADS_DIR, default
	// /downloads).
	Downloads string
	// Certs holds cert.pem (the chain, leaf first), priv.key and ca.pem
	// (CERTS_DIR, default /certs).
	Certs string
	// Listen is the server's UDP address (LISTEN_ADDR, default ":443",
	// both IPv4 and IPv6).
	Listen string
	// VerifyPeer makes the client verify the server's chain against
	// Certs/ca.pem and the URL's host (VERIFY_PEER=1). The runner's
	// certificates are throwaway and name no host the client dials, so
	// by default the client does not verify, as interop clients do.
	VerifyPeer bool
	// PreferredAddress is what a connectionmigration server announces in
	// preferred_address (PREFERRED_ADDRESS, host:port), and
	// PreferredListen where it listens for it (PREFERRED_LISTEN; the
	// announced address when empty). The local runner sets both, the
	// first to its relay's second front; without them a server picks its
	// own addresses at port 4434, as it would in the runner's network.
	PreferredAddress, PreferredListen string
}

// LoadEnv reads the environment through getenv (os.Getenv in a program).
// An unknown role or a malformed URL is an error; an unknown test case is
// not (the caller decides what it supports).
func LoadEnv(getenv func(string) string) (*Env, error) {
	or := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	e := &Env{
		Role:       Role(getenv("ROLE")),
		TestCase:   getenv("TESTCASE"),
		KeyLogFile: getenv("SSLKEYLOGFILE"),
		QlogDir:    getenv("QLOGDIR"),
		WWW:        or("WWW_DIR", "/www"),
		Downloads:  or("DOWNLOADS_DIR", "/downloads"),
		Certs:      or("CERTS_DIR", "/certs"),
		Listen:     or("LISTEN_ADDR", ":443"),
		VerifyPeer: getenv("VERIFY_PEER") == "1",

		PreferredAddress: getenv("PREFERRED_ADDRESS"),
		PreferredListen:  getenv("PREFERRED_LISTEN"),
	}
	if e.Role != Client && e.Role != Server {
		return nil, fmt.Errorf("ROLE is %q, want client or server", e.Role)
	}
	for _, f := range strings.Fields(getenv("REQUESTS")) {
		u, err := url.Parse(f)
		if err != nil {
			return nil, fmt.Errorf("REQUESTS: %w", err)
		}
		if u.Host == "" || u.Path == "" {
			return nil, fmt.Errorf("REQUESTS: %q has no host or path", f)
		}
		e.Requests = append(e.Requests, u)
	}
	if e.Role == Client && len(e.Requests) == 0 {
		return nil, fmt.Errorf("REQUESTS is empty")
	}
	return e, nil
}

// Plan groups the client's requests into connections, in order: one
// connection for everything, except that multiconnect opens one per file,
// and resumption and zerortt fetch the first file on a first connection
// and the rest on a second one (resumed, and with 0-RTT for zerortt).
func (e *Env) Plan() [][]*url.URL {
	switch e.TestCase {
	case "multiconnect":
		plan := make([][]*url.URL, len(e.Requests))
		for i, u := range e.Requests {
			plan[i] = []*url.URL{u}
		}
		return plan
	case "resumption", "zerortt":
		if len(e.Requests) > 1 {
			return [][]*url.URL{e.Requests[:1], e.Requests[1:]}
		}
	}
	return [][]*url.URL{e.Requests}
}
