package tls13

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"
)

// testNow is the fixed clock of every test; certificates are valid around it.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func testTime() time.Time { return testNow }

const testServerName = "server.skiff.test"

type testPKI struct {
	caCert  *x509.Certificate
	caKey   crypto.Signer
	roots   *x509.CertPool
	otherCA *x509.CertPool // a root that signed nothing here
}

var (
	pkiOnce sync.Once
	pki     *testPKI
	leafMu  sync.Mutex
	leaves  = map[string]Certificate{}
)

func mustKey(kind string) crypto.Signer {
	var k crypto.Signer
	var err error
	switch kind {
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		panic("unknown key kind " + kind)
	}
	if err != nil {
		panic(err)
	}
	return k
}

func newCA(name string) (*x509.Certificate, crypto.Signer) {
	key := mustKey("p256")
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             testNow.Add(-365 * 24 * time.Hour),
		NotAfter:              testNow.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func getPKI() *testPKI {
	pkiOnce.Do(func() {
		p := &testPKI{}
		p.caCert, p.caKey = newCA("skiff test CA")
		p.roots = x509.NewCertPool()
		p.roots.AddCert(p.caCert)
		other, _ := newCA("unrelated CA")
		p.otherCA = x509.NewCertPool()
		p.otherCA.AddCert(other)
		pki = p
	})
	return pki
}

// leafOpts describes a test leaf certificate.
type leafOpts struct {
	key      string // p256, p384, rsa, ed25519
	dnsName  string
	notAfter time.Time
	client   bool
	selfSign bool
}

// testLeaf returns a leaf signed by the test CA; results are cached because
// RSA key generation is slow.
func testLeaf(o leafOpts) Certificate {
	if o.dnsName == "" {
		o.dnsName = testServerName
	}
	if o.notAfter.IsZero() {
		o.notAfter = testNow.Add(30 * 24 * time.Hour)
	}
	name := fmt.Sprintf("%s|%s|%v|%v|%v", o.key, o.dnsName, o.notAfter.Unix(), o.client, o.selfSign)
	leafMu.Lock()
	defer leafMu.Unlock()
	if c, ok := leaves[name]; ok {
		return c
	}
	p := getPKI()
	key := mustKey(o.key)
	usage := x509.ExtKeyUsageServerAuth
	if o.client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: o.dnsName},
		DNSNames:     []string{o.dnsName},
		NotBefore:    testNow.Add(-24 * time.Hour),
		NotAfter:     o.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	parent, parentKey := p.caCert, p.caKey
	if o.selfSign {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	c := Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	leaves[name] = c
	return c
}

func toTLSCert(c Certificate) tls.Certificate {
	return tls.Certificate{Certificate: c.Certificate, PrivateKey: c.PrivateKey, Leaf: c.Leaf}
}

// hsEvent is an event of either implementation, in one vocabulary.
type hsEvent struct {
	kind  EventKind
	level Level
	suite uint16
	data  []byte
}

// endpoint adapts our Conn and crypto/tls's QUICConn to one interface.
type endpoint interface {
	handle(l Level, b []byte) error
	next() hsEvent
}

type ourEndpoint struct{ c *Conn }

func (e ourEndpoint) handle(l Level, b []byte) error { return e.c.HandleData(l, b) }
func (e ourEndpoint) next() hsEvent {
	ev := e.c.NextEvent()
	return hsEvent{ev.Kind, ev.Level, ev.Suite, ev.Data}
}

type theirEndpoint struct {
	q *tls.QUICConn
	// rejectEarly declines 0-RTT on a server with session events enabled.
	rejectEarly bool
}

func (e theirEndpoint) handle(l Level, b []byte) error {
	return e.q.HandleData(tls.QUICEncryptionLevel(l), b)
}

func (e theirEndpoint) next() hsEvent {
	for {
		ev := e.q.NextEvent()
		copyData := append([]byte(nil), ev.Data...)
		l := Level(ev.Level)
		switch ev.Kind {
		case tls.QUICNoEvent:
			return hsEvent{}
		case tls.QUICSetReadSecret:
			return hsEvent{EventSetReadSecret, l, ev.Suite, copyData}
		case tls.QUICSetWriteSecret:
			return hsEvent{EventSetWriteSecret, l, ev.Suite, copyData}
		case tls.QUICWriteData:
			return hsEvent{EventWriteData, l, 0, copyData}
		case tls.QUICTransportParameters:
			return hsEvent{EventTransportParameters, 0, 0, copyData}
		case tls.QUICRejectedEarlyData:
			return hsEvent{EventRejectedEarlyData, 0, 0, nil}
		case tls.QUICHandshakeDone:
			return hsEvent{EventHandshakeDone, 0, 0, nil}
		case tls.QUICResumeSession:
			if e.rejectEarly {
				ev.SessionState.EarlyData = false
			}
		case tls.QUICStoreSession:
			_ = e.q.StoreSession(ev.SessionState)
		}
		// Session events: not part of the comparison.
	}
}

// record is what one side installed and received.
type record struct {
	read, write   map[Level][]byte
	suites        map[Level]uint16
	writes        map[Level]int
	sent          map[Level][][]byte // the CRYPTO data written, per write
	params        []byte
	done          bool
	rejectedEarly bool
	err           error
}

func newRecord() *record {
	return &record{read: map[Level][]byte{}, write: map[Level][]byte{}, suites: map[Level]uint16{}, writes: map[Level]int{}, sent: map[Level][][]byte{}}
}

// pump drains from's events, delivering its CRYPTO data to to.
func pump(from endpoint, fromRec *record, to endpoint, toRec *record) bool {
	progress := false
	for {
		ev := from.next()
		if ev.kind == EventNone {
			return progress
		}
		progress = true
		switch ev.kind {
		case EventWriteData:
			fromRec.writes[ev.level]++
			fromRec.sent[ev.level] = append(fromRec.sent[ev.level], ev.data)
			if toRec.err == nil && fromRec.err == nil {
				toRec.err = to.handle(ev.level, ev.data)
			}
		case EventSetReadSecret:
			fromRec.read[ev.level] = ev.data
			fromRec.suites[ev.level] = ev.suite
		case EventSetWriteSecret:
			fromRec.write[ev.level] = ev.data
			fromRec.suites[ev.level] = ev.suite
		case EventTransportParameters:
			fromRec.params = ev.data
		case EventRejectedEarlyData:
			fromRec.rejectedEarly = true
		case EventHandshakeDone:
			fromRec.done = true
		}
	}
}

// run exchanges messages until neither side has anything to say.
func run(client, server endpoint, cr, sr *record) {
	for i := 0; i < 100; i++ {
		p1 := pump(client, cr, server, sr)
		p2 := pump(server, sr, client, cr)
		if !p1 && !p2 {
			return
		}
	}
}

// checkSecrets asserts both sides installed the same secrets at each level.
func checkSecrets(t *testing.T, cr, sr *record, levels ...Level) {
	t.Helper()
	for _, l := range levels {
		if l != LevelEarly {
			if len(cr.read[l]) == 0 || string(cr.read[l]) != string(sr.write[l]) {
				t.Errorf("%v: client read secret %x != server write secret %x", l, cr.read[l], sr.write[l])
			}
		}
		if len(cr.write[l]) == 0 || string(cr.write[l]) != string(sr.read[l]) {
			t.Errorf("%v: client write secret %x != server read secret %x", l, cr.write[l], sr.read[l])
		}
		if cr.suites[l] != sr.suites[l] {
			t.Errorf("%v: suites differ: %x vs %x", l, cr.suites[l], sr.suites[l])
		}
	}
}

var (
	clientParams = []byte("client transport parameters \x00\x01\x02")
	serverParams = []byte("server transport parameters \xff\xfe")
)

func newTheirClient(t testing.TB, cfg *tls.Config, params []byte) *tls.QUICConn {
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: cfg})
	q.SetTransportParameters(params)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

func newTheirServer(t testing.TB, cfg *tls.Config, params []byte) *tls.QUICConn {
	q := tls.QUICServer(&tls.QUICConfig{TLSConfig: cfg})
	q.SetTransportParameters(params)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

func newOurClient(t testing.TB, cfg *Config, params []byte) *Conn {
	c := Client(cfg, params)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

func newOurServer(t testing.TB, cfg *Config, params []byte) *Conn {
	c := Server(cfg, params)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// alertOf extracts the alert from either implementation's error.
func alertOf(err error) (uint8, bool) {
	var a AlertError
	if errors.As(err, &a) {
		return uint8(a), true
	}
	var ta tls.AlertError
	if errors.As(err, &ta) {
		return uint8(ta), true
	}
	return 0, false
}

func baseServerConfig(cert Certificate) *Config {
	return &Config{
		Certificates: []Certificate{cert},
		NextProtos:   []string{"h3"},
		Time:         testTime,
	}
}

func baseClientConfig() *Config {
	return &Config{
		RootCAs:    getPKI().roots,
		ServerName: testServerName,
		NextProtos: []string{"h3"},
		Time:       testTime,
	}
}

func theirServerConfig(cert Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{toTLSCert(cert)},
		NextProtos:   []string{"h3"},
		MinVersion:   tls.VersionTLS13,
		Time:         testTime,
	}
}

func theirClientConfig() *tls.Config {
	return &tls.Config{
		RootCAs:    getPKI().roots,
		ServerName: testServerName,
		NextProtos: []string{"h3"},
		MinVersion: tls.VersionTLS13,
		Time:       testTime,
	}
}

// intermediateChain returns leaf and intermediate DER, signed up to the
// test root, and the leaf key.
func intermediateChain(t *testing.T) ([][]byte, crypto.Signer) {
	t.Helper()
	p := getPKI()
	ikey := mustKey("p256")
	itmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: "skiff intermediate"},
		NotBefore:             testNow.Add(-24 * time.Hour),
		NotAfter:              testNow.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	ider, err := x509.CreateCertificate(rand.Reader, itmpl, p.caCert, ikey.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	icert, _ := x509.ParseCertificate(ider)
	lkey := mustKey("p256")
	ltmpl := &x509.Certificate{
		SerialNumber: big.NewInt(8),
		DNSNames:     []string{testServerName},
		NotBefore:    testNow.Add(-24 * time.Hour),
		NotAfter:     testNow.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	lder, err := x509.CreateCertificate(rand.Reader, ltmpl, icert, lkey.Public(), ikey)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{lder, ider}, lkey
}
