module github.com/skiffnet/skiff/interop

go 1.26.0

require (
	github.com/quic-go/quic-go v0.65.0
	github.com/skiffnet/skiff v0.0.0-00010101000000-000000000000
)

require (
	github.com/quic-go/qpack v0.6.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

replace github.com/skiffnet/skiff => ../
