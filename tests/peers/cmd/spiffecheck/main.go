// spiffecheck parses trust bundles with SPIFFE's own Go library, github.com/spiffe/go-spiffe/v2,
// so that bundled's strictness can be compared with it case by case (suite_peer_spiffe).
//
// Each FILE is read by content, as bundlectl canonical reads it: a JSON document (first
// non-blank byte '{') with spiffebundle.Parse, anything else as PEM with x509bundle.Parse
// (Go's crypto/x509 underneath both). One line per file, in order, tab-separated:
//
//	accept	FILE	x509=N jwt=M
//	reject	FILE	REASON
//
// Exit status 0 when every file was read (whatever go-spiffe answered), 2 otherwise.
//
//	spiffecheck FILE...
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: spiffecheck FILE...")
		os.Exit(2)
	}
	// The trust domain only names the bundle; neither parser checks the content against it.
	td := spiffeid.RequireTrustDomainFromString("example.org")
	for _, path := range os.Args[1:] {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "spiffecheck: %v\n", err)
			os.Exit(2)
		}
		x509s, jwts, err := parse(td, data)
		if err != nil {
			fmt.Printf("reject\t%s\t%s\n", path, strings.Join(strings.Fields(err.Error()), " "))
		} else {
			fmt.Printf("accept\t%s\tx509=%d jwt=%d\n", path, x509s, jwts)
		}
	}
}

func parse(td spiffeid.TrustDomain, data []byte) (x509s, jwts int, err error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		b, err := spiffebundle.Parse(td, data)
		if err != nil {
			return 0, 0, err
		}
		return len(b.X509Authorities()), len(b.JWTAuthorities()), nil
	}
	b, err := x509bundle.Parse(td, data)
	if err != nil {
		return 0, 0, err
	}
	return len(b.X509Authorities()), 0, nil
}
