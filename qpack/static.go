package qpack

// The static table, RFC 9204 §3.1 and Appendix A.

type staticEntry struct {
	name, value string
}

// staticNames holds each name of the static table with its indices, in
// ascending order (a name's entries are not always contiguous), in slots
// chosen by the name's length and its first and last bytes
// (staticNameSlot), which tell nearly all of them apart: a lookup costs one
// comparison (two for one slot) rather than hashing the name, as a map
// would, for every field a section encodes.
var staticNames [256][]staticName

type staticName struct {
	name string
	idxs []uint8
}

// staticNameSlot is the slot of staticNames for name, which is not empty.
// The factors put each of the table's names in a slot of its own, but for
// access-control-allow-headers and -methods, which share length, first
// and last bytes (TestStaticNameIndices).
func staticNameSlot(name string) int {
	return (len(name)*3 + int(name[0])*48 + int(name[len(name)-1])) & (len(staticNames) - 1)
}

func init() {
	for i, e := range staticTable {
		slot := &staticNames[staticNameSlot(e.name)]
		j := 0
		for j < len(*slot) && (*slot)[j].name != e.name {
			j++
		}
		if j == len(*slot) {
			*slot = append(*slot, staticName{name: e.name})
		}
		(*slot)[j].idxs = append((*slot)[j].idxs, uint8(i))
	}
}

// staticNameIndices returns the indices of name's entries in the static
// table, nil when it has none.
func staticNameIndices(name string) []uint8 {
	if name == "" {
		return nil
	}
	for _, n := range staticNames[staticNameSlot(name)] {
		if n.name == name {
			return n.idxs
		}
	}
	return nil
}

// staticLookup finds name and value in the static table: the lowest index
// with that name, and the index of an exact match.
func staticLookup(name, value string) (nameIdx uint8, nameOK bool, exactIdx uint8, exactOK bool) {
	idxs := staticNameIndices(name)
	if idxs == nil {
		return 0, false, 0, false
	}
	for _, i := range idxs {
		if staticTable[i].value == value {
			return idxs[0], true, i, true
		}
	}
	return idxs[0], true, 0, false
}
