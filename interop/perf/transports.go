package perf

// Transports returns every transport the benchmarks compare, in column
// order: ratios in reports are taken against the first, skiff.
func Transports() []Transport {
	return []Transport{
		Skiff(),
		QuicGo(),
		TCPTLS(),
	}
}

// ByName returns the transport called name, or false: one of Transports,
// or SkiffMaxDatagram.
func ByName(name string) (Transport, bool) {
	for _, t := range append(Transports(), SkiffMaxDatagram()) {
		if t.Name == name {
			return t, true
		}
	}
	return Transport{}, false
}
