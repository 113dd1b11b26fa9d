package tls13

import "encoding/hex"

// NSS key log labels (the SSLKEYLOGFILE format, as in
// draft-ietf-tls-keylogfile).
const (
	keyLogClientEarly = "CLIENT_EARLY_TRAFFIC_SECRET"
	keyLogClientHS    = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	keyLogServerHS    = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	keyLogClientAP    = "CLIENT_TRAFFIC_SECRET_0"
	keyLogServerAP    = "SERVER_TRAFFIC_SECRET_0"
)

// keyLog writes "<label> <client random> <secret>\n" to Config.KeyLogWriter.
// Write errors are ignored: logging must not break a handshake.
func (c *Conn) keyLog(label string, clientRandom, secret []byte) {
	w := c.config.KeyLogWriter
	if w == nil {
		return
	}
	line := make([]byte, 0, len(label)+2+2*len(clientRandom)+2*len(secret)+1)
	line = append(line, label...)
	line = append(line, ' ')
	line = hex.AppendEncode(line, clientRandom)
	line = append(line, ' ')
	line = hex.AppendEncode(line, secret)
	line = append(line, '\n')
	_, _ = w.Write(line)
}
