package qtrace

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"strings"
)

// KeyLog holds TLS secrets from NSS key log files (SSLKEYLOGFILE), by the
// hex of the ClientHello's random and then by label:
// CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
// CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0,
// CLIENT_EARLY_TRAFFIC_SECRET.
type KeyLog map[string]map[string][]byte

// maxKeyLogLine bounds a key log line: a label, two hex fields.
const maxKeyLogLine = 1024

// Parse adds the secrets of a key log file's content to k (both
// endpoints write one; the runner merges them). Lines it cannot read are
// skipped, as Wireshark does.
func (k KeyLog) Parse(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, maxKeyLogLine), maxKeyLogLine)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		random, err1 := hex.DecodeString(f[1])
		secret, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || len(random) != 32 || len(secret) == 0 {
			continue
		}
		key := hex.EncodeToString(random)
		if k[key] == nil {
			k[key] = map[string][]byte{}
		}
		k[key][f[0]] = secret
	}
}
