package tlsconv_test

import (
	"crypto/tls"
	"fmt"

	"github.com/skiffnet/skiff/tls13/tlsconv"
)

// A crypto/tls client config carries over; what TLS 1.3 over QUIC cannot
// honour is refused with the field named.
func ExampleFromConfig() {
	config, err := tlsconv.FromConfig(&tls.Config{ServerName: "example.com", NextProtos: []string{"h3"}})
	fmt.Println(config.ServerName, config.NextProtos, err)

	_, err = tlsconv.FromConfig(&tls.Config{ServerName: "example.com", MaxVersion: tls.VersionTLS12})
	fmt.Println(err)
	// Output:
	// example.com [h3] <nil>
	// tlsconv: tls.Config.MaxVersion: 0x0303 excludes TLS 1.3, which QUIC requires (RFC 9001 §4.2)
}
