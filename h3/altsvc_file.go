package h3

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AltSvcFile is an AltSvcStore kept in a file in curl's alt-svc format, so
// that what one process learned the next one knows, and curl and skiff can
// share a file. It holds the entries in an AltSvcCache and rewrites the
// whole file, atomically (a temporary file renamed over it), whenever they
// change: a new, changed or removed alternative, or an expiry moved by
// more than a minute (so that a busy origin re-advertising "ma" does not
// cost a write per response).
//
// The format, one alternative per line (curl's lib/altsvc.c):
//
//	# comment
//	h2 example.com 443 h3 alt.example.com 8443 "20261231 23:59:59" 0 0
//
// source ALPN ("h1", "h2", "h3"), origin host and port, alternative ALPN,
// host and port, expiry (UTC, quoted), persist (0 or 1) and a priority
// (unused, 0). An IPv6 host is written in brackets. Lines for other
// protocols than h3 are skipped, as are lines that do not parse: a corrupt
// or foreign file never fails a request. Rewriting the file drops them.
//
// Between processes the last writer wins, as with curl; the file is always
// one writer's whole version, never a mix.
type AltSvcFile struct {
	path  string
	cache *AltSvcCache
	now   func() time.Time

	writeMu sync.Mutex // one rewrite at a time, in the order of changes
	errMu   sync.Mutex
	err     error // the last write's error
}

// maxAltSvcFileSize bounds what NewAltSvcFile reads.
const maxAltSvcFileSize = 4 << 20

// NewAltSvcFile returns a store backed by the file at path holding up to
// size origins (DefaultAltSvcCacheSize when size ≤ 0), loaded with the
// fresh entries the file holds. A missing file is an empty store; an
// error is returned only when the file exists but cannot be read.
func NewAltSvcFile(path string, size int) (*AltSvcFile, error) {
	f := &AltSvcFile{path: path, cache: NewAltSvcCache(size), now: time.Now}
	data, err := readLimited(path, maxAltSvcFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	now := f.now()
	var origin Origin
	var alts []Alternative
	flush := func() {
		if len(alts) > 0 {
			f.cache.SetAlternatives(origin, alts)
		}
		alts = nil
	}
	for _, e := range parseAltSvcFile(data) {
		if !now.Before(e.alt.Expires) {
			continue
		}
		if e.origin != origin {
			flush()
			origin = e.origin
		}
		alts = append(alts, e.alt)
	}
	flush()
	return f, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, limit))
}

// Alternatives returns origin's alternatives fresh at now.
func (f *AltSvcFile) Alternatives(origin Origin, now time.Time) []Alternative {
	return f.cache.Alternatives(origin, now)
}

// SetAlternatives replaces origin's alternatives and rewrites the file if
// that changed them.
func (f *AltSvcFile) SetAlternatives(origin Origin, alts []Alternative) {
	old := f.cache.Alternatives(origin, f.now())
	f.cache.SetAlternatives(origin, alts)
	if !sameFileEntries(old, alts) {
		f.save()
	}
}

// ClearNonPersistent removes the alternatives without Persist and
// rewrites the file.
func (f *AltSvcFile) ClearNonPersistent() {
	f.cache.ClearNonPersistent()
	f.save()
}

// Err returns the error of the last write of the file, or nil.
func (f *AltSvcFile) Err() error {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	return f.err
}

// Save writes the file now.
func (f *AltSvcFile) Save() error {
	f.save()
	return f.Err()
}

// sameFileEntries reports whether writing b instead of a would change
// nothing that matters: the same alternatives, expiries within a minute.
func sameFileEntries(a, b []Alternative) bool {
	if !sameAlternatives(a, b) {
		return false
	}
	for i := range a {
		if d := a[i].Expires.Sub(b[i].Expires); d > time.Minute || d < -time.Minute {
			return false
		}
	}
	return true
}

func (f *AltSvcFile) save() {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	now := f.now()
	var b []byte
	b = append(b, "# Alt-Svc cache (curl's format), written by skiff\n"...)
	for _, e := range f.cache.all() {
		for _, a := range e.alts {
			if now.Before(a.Expires) {
				b = appendAltSvcLine(b, e.origin, a)
			}
		}
	}
	err := writeFileAtomic(f.path, b)
	f.errMu.Lock()
	f.err = err
	f.errMu.Unlock()
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so that a reader sees the old file or the new one whole.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// fileEntry is one line of an alt-svc file.
type fileEntry struct {
	origin Origin
	alt    Alternative
}

// altSvcTimeLayout is curl's expiry format, in UTC.
const altSvcTimeLayout = "20060102 15:04:05"

// maxAltSvcLine bounds a line; longer ones are skipped.
const maxAltSvcLine = 2048

// parseAltSvcFile reads the h3 entries of an alt-svc file, skipping
// comments, blank lines, other protocols, and lines that do not parse or
// are too long.
func parseAltSvcFile(data []byte) []fileEntry {
	var out []fileEntry
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) > maxAltSvcLine {
			continue
		}
		if e, ok := parseAltSvcLine(string(line)); ok {
			out = append(out, e)
		}
	}
	return out
}

// parseAltSvcLine parses one line: nine fields, the expiry (the seventh)
// being a quoted date and time.
func parseAltSvcLine(line string) (fileEntry, bool) {
	var e fileEntry
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return e, false
	}
	f := strings.Fields(line)
	if len(f) != 10 {
		return e, false
	}
	src, srcHost, srcPort, dst, dstHost, dstPort := f[0], f[1], f[2], f[3], f[4], f[5]
	if dst != NextProtoH3 || (src != "h1" && src != "h2" && src != "h3") {
		return e, false
	}
	var ok bool
	if e.origin.Host, ok = fileHost(srcHost); !ok {
		return e, false
	}
	if e.origin.Port, ok = filePort(srcPort); !ok {
		return e, false
	}
	e.origin.Scheme = "https"
	host, ok := fileHost(dstHost)
	if !ok {
		return e, false
	}
	if host != e.origin.Host {
		e.alt.Host = host
	}
	if e.alt.Port, ok = filePort(dstPort); !ok {
		return e, false
	}
	date, clock := f[6], f[7]
	if len(date) < 2 || len(clock) < 2 || date[0] != '"' || clock[len(clock)-1] != '"' {
		return e, false
	}
	exp, err := time.Parse(altSvcTimeLayout, date[1:]+" "+clock[:len(clock)-1])
	if err != nil {
		return e, false
	}
	switch f[8] {
	case "0":
	case "1":
		e.alt.Persist = true
	default:
		return e, false
	}
	if _, err := strconv.ParseUint(f[9], 10, 32); err != nil {
		return e, false // the priority: unused, but a number
	}
	e.alt.Protocol, e.alt.Expires, e.alt.Source = dst, exp, src
	return e, true
}

// fileHost checks a host field: a name or IPv4 address, or an IPv6
// address in brackets, returned lower case without them.
func fileHost(h string) (string, bool) {
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") || len(h) < 3 {
			return "", false
		}
		h = h[1 : len(h)-1]
		if strings.ContainsAny(h, "[]") || !strings.Contains(h, ":") {
			return "", false
		}
		return strings.ToLower(h), true
	}
	if h == "" || len(h) > 255 || strings.ContainsAny(h, ":[]\"#") {
		return "", false
	}
	return strings.ToLower(h), true
}

func filePort(p string) (int, bool) {
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 || p[0] == '+' || p[0] == '0' {
		return 0, false
	}
	return n, true
}

// appendAltSvcLine appends a's line for origin.
func appendAltSvcLine(b []byte, origin Origin, a Alternative) []byte {
	src := a.Source
	if src != "h1" && src != "h2" && src != "h3" {
		src = "h2"
	}
	host := a.Host
	if host == "" {
		host = origin.Host
	}
	b = append(b, src...)
	b = append(b, ' ')
	b = appendFileHost(b, origin.Host)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(origin.Port), 10)
	b = append(b, ' ')
	b = append(b, a.Protocol...)
	b = append(b, ' ')
	b = appendFileHost(b, host)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(a.Port), 10)
	b = append(b, " \""...)
	b = a.Expires.UTC().AppendFormat(b, altSvcTimeLayout)
	b = append(b, "\" "...)
	if a.Persist {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	return append(b, " 0\n"...)
}

func appendFileHost(b []byte, h string) []byte {
	if strings.Contains(h, ":") {
		b = append(b, '[')
		b = append(b, h...)
		return append(b, ']')
	}
	return append(b, h...)
}
