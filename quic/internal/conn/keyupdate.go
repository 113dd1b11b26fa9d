package conn

import "github.com/skiffnet/skiff/quic/internal/protect"

// keyUpdateInterval is how many packets we protect with one 1-RTT key
// generation before updating it, far below every AEAD's confidentiality
// limit (RFC 9001 §6.6).
const keyUpdateInterval = 1 << 20

// keyUpdateState holds the 1-RTT key generations (RFC 9001 §6): the
// current keys of each direction, the next read keys and the previous read
// keys (for packets reordered across an update).
//
// Next-generation keys are derived only when needed, not ahead: each AEAD
// state costs most of a kilobyte, which an idle connection should not pay
// for an update that may never come. The next write keys are derived when
// we update; the next read keys when the first packet with the other key
// phase arrives, and kept until the peer's update is authenticated. RFC
// 9001 §6.3 allows deriving keys as part of packet processing; the timing
// signal it creates reveals at most that a key phase change was attempted,
// once per generation.
type keyUpdateState struct {
	read, nextRead, prevRead *protect.Keys
	write                    *protect.Keys
	// lowestInPhase is the lowest packet number read in the current read
	// phase (once phaseStarted): an older-phase packet below it is a
	// reordered one, above it the peer's next update.
	lowestInPhase uint64
	sentInPhase   uint64
	updates       uint64
	readPhase     bool
	writePhase    bool
	phaseStarted  bool
	confirmed     bool // handshake confirmed: updates are allowed
	forceUpdate   bool // asked for (ForceKeyUpdate): update at the next packet allowed
}

// rest lets the keys' cipher states go while the connection is idle
// (protect.Keys.Rest; they come back with the next packet) and drops the
// previous and next read keys: after an idle period no packet reordered
// across an update is still on its way (RFC 9001 §6.5 keeps the previous
// keys about three PTOs), and the next ones are derived on demand.
func (k *keyUpdateState) rest() {
	for _, keys := range [...]*protect.Keys{k.read, k.write} {
		if keys != nil {
			keys.Rest()
		}
	}
	k.prevRead, k.nextRead = nil, nil
}

func (k *keyUpdateState) setRead(keys *protect.Keys) {
	k.read = keys
	k.nextRead = nil
}

func (k *keyUpdateState) setWrite(keys *protect.Keys) {
	k.write = keys
}

// nextWriteKeys derives the write keys of the next key phase.
func (k *keyUpdateState) nextWriteKeys() *protect.Keys {
	next, err := k.write.NextGeneration()
	if err != nil {
		return nil
	}
	return next
}

// readKeysFor picks the keys for a packet with the given key phase bit and
// packet number; nil when there are none.
func (k *keyUpdateState) readKeysFor(phase bool, pn uint64) *protect.Keys {
	if phase == k.readPhase {
		return k.read
	}
	if k.phaseStarted && pn < k.lowestInPhase {
		return k.prevRead
	}
	if k.nextRead == nil && k.read != nil {
		if next, err := k.read.NextGeneration(); err == nil {
			k.nextRead = next
		}
	}
	return k.nextRead
}

// onPacketOpened follows the peer's key phase once a packet authenticated.
func (k *keyUpdateState) onPacketOpened(phase bool, pn uint64, keys *protect.Keys) {
	switch {
	case keys == k.nextRead && phase != k.readPhase:
		// The peer updated. This may come before our handshake is
		// confirmed: a server confirms when its handshake completes and
		// may update at once (RFC 9001 §4.1.2, §6.1), while its
		// HANDSHAKE_DONE to us was lost or reordered. Accept it.
		k.prevRead, k.read, k.nextRead = k.read, k.nextRead, nil
		k.readPhase = phase
		k.lowestInPhase, k.phaseStarted = pn, true
		if k.writePhase != k.readPhase {
			// RFC 9001 §6.2: answer the peer's update with ours.
			k.rotateWrite()
		}
		k.updates++
	case keys == k.read:
		if !k.phaseStarted || pn < k.lowestInPhase {
			k.lowestInPhase, k.phaseStarted = pn, true
		}
	}
}

func (k *keyUpdateState) rotateWrite() {
	next := k.nextWriteKeys()
	if next == nil {
		return // cannot happen with a valid secret; keep the current keys
	}
	k.write = next
	k.writePhase = !k.writePhase
	k.sentInPhase = 0
}

// onPacketSent counts packets and starts an update when the interval is
// reached, once the peer has followed our previous one (RFC 9001 §6.1).
func (k *keyUpdateState) onPacketSent() {
	k.sentInPhase++
	if k.confirmed && k.readPhase == k.writePhase && (k.sentInPhase >= keyUpdateInterval || k.forceUpdate) {
		k.forceUpdate = false
		// Counted once the peer answers (onPacketOpened), as on its side.
		k.rotateWrite()
	}
}
