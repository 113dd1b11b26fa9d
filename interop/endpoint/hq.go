package endpoint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
)

// Conn is what HTTP/0.9 over QUIC (ALPN hq-interop) needs of a connection,
// whichever implementation carries it. A stream's Close ends our sending
// side with FIN.
type Conn interface {
	OpenStream(ctx context.Context) (io.ReadWriteCloser, error)
	AcceptStream(ctx context.Context) (io.ReadWriteCloser, error)
	// Close closes the connection with application error code 0 and
	// returns once the CONNECTION_CLOSE is on its way.
	Close() error
}

// NewConn makes a Conn from a connection's own methods, whatever its
// stream type: OpenStream and AcceptStream return its streams as
// io.ReadWriteClosers.
func NewConn[S io.ReadWriteCloser](open, accept func(context.Context) (S, error), close func() error) Conn {
	return funcConn[S]{open, accept, close}
}

type funcConn[S io.ReadWriteCloser] struct {
	open, accept func(context.Context) (S, error)
	close        func() error
}

func (c funcConn[S]) OpenStream(ctx context.Context) (io.ReadWriteCloser, error) {
	return stream(c.open(ctx))
}

func (c funcConn[S]) AcceptStream(ctx context.Context) (io.ReadWriteCloser, error) {
	return stream(c.accept(ctx))
}

func (c funcConn[S]) Close() error { return c.close() }

// stream returns s as an interface, nil (not a typed nil) on error.
func stream[S io.ReadWriteCloser](s S, err error) (io.ReadWriteCloser, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ALPNHQ is HTTP/0.9 over QUIC as the interop runner speaks it; ALPNH3 is
// HTTP/3, used only by the http3 test case.
const (
	ALPNHQ = "hq-interop"
	ALPNH3 = "h3"
)

// maxRequestLine bounds an hq-interop request: "GET /" and a path.
const maxRequestLine = 4096

// ServeHQ answers the hq-interop requests of one connection until it ends:
// for each stream the client opens, it reads "GET /<path>\r\n" (or up to
// FIN) and writes the file under root, then FIN. A request for a missing
// file or a malformed one gets an empty response.
func ServeHQ(ctx context.Context, c Conn, root *os.Root, logf func(string, ...any)) {
	for {
		s, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		go func() {
			if err := serveHQStream(s, root); err != nil {
				logf("hq: %v", err)
			}
		}()
	}
}

func serveHQStream(s io.ReadWriteCloser, root *os.Root) error {
	defer s.Close()
	line, err := bufio.NewReaderSize(io.LimitReader(s, maxRequestLine), 512).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	name, ok := parseHQRequest(line)
	if !ok {
		return fmt.Errorf("malformed request %q", line)
	}
	f, err := root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(s, f)
	return err
}

// parseHQRequest returns the file a request line names, relative to the
// served directory, or false.
func parseHQRequest(line string) (string, bool) {
	line = strings.TrimRight(line, "\r\n")
	p, ok := strings.CutPrefix(line, "GET ")
	if !ok || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00 ") {
		return "", false
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		return "", false
	}
	return name, true
}

// FetchHQ requests every URL on c, one stream each, all at once as far as
// the server's stream limit lets OpenStream go on (it waits for
// MAX_STREAMS), and saves each response under downloads.
func FetchHQ(ctx context.Context, c Conn, urls []*url.URL, downloads *os.Root) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(urls))
	for _, u := range urls {
		s, err := c.OpenStream(ctx)
		if err != nil {
			errs <- fmt.Errorf("%s: open stream: %w", u.Path, err)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fetchHQStream(s, u, downloads); err != nil {
				errs <- fmt.Errorf("%s: %w", u.Path, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func fetchHQStream(s io.ReadWriteCloser, u *url.URL, downloads *os.Root) error {
	if _, err := io.WriteString(s, "GET "+u.EscapedPath()+"\r\n"); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	return saveFile(downloads, u.Path, s)
}

// saveFile writes r to the file a URL path names under downloads.
func saveFile(downloads *os.Root, urlPath string, r io.Reader) error {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if dir := path.Dir(name); dir != "." {
		if err := downloads.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := downloads.Create(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}
