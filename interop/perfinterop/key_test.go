package perfinterop

import (
	"crypto/x509"
	"testing"

	"github.com/skiffnet/skiff/interop/perf"
)

func marshalKey(t *testing.T, cred *perf.Credentials) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(cred.Certificate.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
