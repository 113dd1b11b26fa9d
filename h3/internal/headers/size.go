package headers

import "github.com/skiffnet/skiff/qpack"

// FieldSectionSize is the size of a field section as RFC 9114 §4.2.2 counts
// it for SETTINGS_MAX_FIELD_SECTION_SIZE: the sum over all field lines of
// the name length, the value length and 32.
func FieldSectionSize(fields []qpack.HeaderField) uint64 {
	var n uint64
	for _, f := range fields {
		n += uint64(len(f.Name)) + uint64(len(f.Value)) + 32
	}
	return n
}
