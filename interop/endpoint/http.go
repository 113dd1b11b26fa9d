package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
)

// FileHandler serves the files of root over HTTP (the http3 test case).
func FileHandler(root *os.Root) http.Handler {
	return http.FileServerFS(root.FS())
}

// FetchHTTP sends a GET for every URL through rt at once (HTTP/3 runs them
// as parallel streams of one connection) and saves each body under
// downloads.
func FetchHTTP(ctx context.Context, rt http.RoundTripper, urls []*url.URL, downloads *os.Root) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(urls))
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fetchHTTP(ctx, rt, u, downloads); err != nil {
				errs <- fmt.Errorf("%s: %w", u, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func fetchHTTP(ctx context.Context, rt http.RoundTripper, u *url.URL, downloads *os.Root) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return saveFile(downloads, u.Path, resp.Body)
}
