module bundled.test/peers

go 1.26.0

require (
	filippo.io/torchwood v0.9.0
	github.com/spiffe/go-spiffe/v2 v2.9.0
	github.com/transparency-dev/formats v0.1.1
	github.com/transparency-dev/merkle v0.0.2
	golang.org/x/mod v0.43.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.5 // indirect
	golang.org/x/crypto v0.52.0 // indirect
	golang.org/x/sync v0.19.0 // indirect
)
