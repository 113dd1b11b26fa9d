package endpoint

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// Impl is one QUIC implementation's side of the endpoint: which test cases
// it supports and how it serves and fetches. The rest (environment, exit
// codes, files, HTTP/0.9, the client's connection plan) is shared.
type Impl struct {
	Name  string
	Cases Table
	// Serve runs the server until ctx ends.
	Serve func(ctx context.Context, s *Setup) error
	// Fetch downloads s.Requests.
	Fetch func(ctx context.Context, s *Setup) error
}

// Setup is what an implementation is given to run a test case.
type Setup struct {
	*Env
	// KeyLog receives TLS secrets (SSLKEYLOGFILE); nil when unset.
	KeyLog io.Writer
	// WWW and Downloads are Env.WWW and Env.Downloads, opened so that a
	// request cannot name a file outside them.
	WWW, Downloads *os.Root
	// Roots verify the server's chain when Env.VerifyPeer is set.
	Roots *x509.CertPool
	// CertFile and KeyFile are the server's chain and key in Env.Certs.
	CertFile, KeyFile string
	Logf              func(format string, args ...any)
}

// Main is an endpoint's main function: Run until SIGTERM or an interrupt.
func Main(impl Impl) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return Run(ctx, impl, os.Getenv, os.Stderr)
}

// Run reads the environment through getenv, returns ExitUnsupported for a
// test case impl does not support in its role (and for any unknown one),
// runs the role until it is done (client) or ctx ends (server), and
// returns the exit code.
func Run(ctx context.Context, impl Impl, getenv func(string) string, stderr io.Writer) int {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, impl.Name+": "+format+"\n", args...) }
	role, tc := Role(getenv("ROLE")), getenv("TESTCASE")
	if role != Client && role != Server {
		logf("ROLE is %q, want client or server", role)
		return 1
	}
	if !impl.Cases.Supports(role, tc) {
		logf("test case %q is not supported as %s %s", tc, role, impl.Cases[tc].Missing)
		return ExitUnsupported
	}
	env, err := LoadEnv(getenv)
	if err != nil {
		logf("%v", err)
		return 1
	}
	s, closeSetup, err := newSetup(env, logf)
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer closeSetup()
	if role == Server {
		err = impl.Serve(ctx, s)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
	} else {
		err = impl.Fetch(ctx, s)
	}
	if err != nil {
		logf("%s %s: %v", role, tc, err)
		return 1
	}
	return 0
}

// ALPN is the protocol of the test case: h3 for http3, hq-interop for
// every other.
func (s *Setup) ALPN() string {
	if s.TestCase == "http3" {
		return ALPNH3
	}
	return ALPNHQ
}

func newSetup(env *Env, logf func(string, ...any)) (*Setup, func(), error) {
	s := &Setup{
		Env:      env,
		CertFile: filepath.Join(env.Certs, "cert.pem"),
		KeyFile:  filepath.Join(env.Certs, "priv.key"),
		Logf:     logf,
	}
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var err error
	if env.Role == Server {
		s.WWW, err = os.OpenRoot(env.WWW)
		if err == nil {
			closers = append(closers, s.WWW)
		}
	} else {
		if err = os.MkdirAll(env.Downloads, 0o755); err == nil {
			s.Downloads, err = os.OpenRoot(env.Downloads)
		}
		if err == nil {
			closers = append(closers, s.Downloads)
		}
		if err == nil && env.VerifyPeer {
			s.Roots, err = loadRoots(filepath.Join(env.Certs, "ca.pem"))
		}
	}
	if err == nil && env.KeyLogFile != "" {
		var f *os.File
		f, err = os.OpenFile(env.KeyLogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err == nil {
			s.KeyLog = &lockedWriter{w: f}
			closers = append(closers, f)
		}
	}
	if err == nil && env.QlogDir != "" {
		err = os.MkdirAll(env.QlogDir, 0o755)
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return s, closeAll, nil
}

func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", file)
	}
	return pool, nil
}

// lockedWriter serializes the key log's writes: connections log from
// their own goroutines, and a line must not be split by another.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// multiconnectParallel is how many connections of a multiconnect plan are
// open at once: one connection per file as the test asks, a few at a time
// so that 50 handshakes under 30 % loss fit the runner's budget.
const multiconnectParallel = 4

// Dialer opens connection i of the plan (see Env.Plan) to addr
// ("host:port"), for hq-interop.
type Dialer func(ctx context.Context, addr string, i int) (Conn, error)

// RunPlan fetches s.Requests over hq-interop, connection by connection as
// Env.Plan groups them: in order, except for multiconnect's, which run a
// few at a time. Each connection is closed once its files are saved.
func RunPlan(ctx context.Context, s *Setup, dial Dialer) error {
	plan := s.Plan()
	parallel := 1
	if s.TestCase == "multiconnect" {
		parallel = multiconnectParallel
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	errs := make(chan error, len(plan))
	for i, urls := range plan {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fetchOn(ctx, dial, i, urls, s); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			}
		}()
		if parallel == 1 {
			wg.Wait()
		}
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func fetchOn(ctx context.Context, dial Dialer, i int, urls []*url.URL, s *Setup) error {
	c, err := dial(ctx, HostPort(urls[0]), i)
	if err != nil {
		return err
	}
	err = FetchHQ(ctx, c, urls, s.Downloads)
	return errors.Join(err, c.Close())
}

// HostPort is the UDP address a URL names: its host and port, 443 when
// it has none.
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
