package qpack

// The static table, RFC 9204 §3.1 and Appendix A.

type staticEntry struct {
	name, value string
}

// staticNames maps each name of the static table to its indices, in
// ascending order (a name's entries are not always contiguous).
var staticNames = make(map[string][]uint8, 61)

func init() {
	for i, e := range staticTable {
		staticNames[e.name] = append(staticNames[e.name], uint8(i))
	}
}

// staticLookup finds name and value in the static table: the lowest index
// with that name, and the index of an exact match.
func staticLookup(name, value string) (nameIdx uint8, nameOK bool, exactIdx uint8, exactOK bool) {
	idxs, ok := staticNames[name]
	if !ok {
		return 0, false, 0, false
	}
	for _, i := range idxs {
		if staticTable[i].value == value {
			return idxs[0], true, i, true
		}
	}
	return idxs[0], true, 0, false
}
