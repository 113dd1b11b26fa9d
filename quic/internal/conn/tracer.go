package conn

// The path events of the Tracer; the others are in trace.go.

func (t *Tracer) migrationState(state string, p Path) {
	if t != nil && t.MigrationState != nil {
		t.MigrationState(state, p)
	}
}

func (t *Tracer) mtuUpdated(old, new int, done bool) {
	if t != nil && t.MTUUpdated != nil && (old != new || done) {
		t.MTUUpdated(old, new, done)
	}
}
