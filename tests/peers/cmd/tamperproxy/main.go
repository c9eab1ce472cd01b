// tamperproxy stands between a verifier and a log server on loopback and corrupts the
// answers to chosen paths, so that tests can show a verifier refuses what it is given.
// Every request is passed upstream; an answer whose path starts with -corrupt is altered:
// in a JSON proof answer the first hash gets one bit flipped (the JSON stays well formed; an
// empty proof passes unchanged), any other body gets one bit flipped in its middle byte.
//
//	tamperproxy -upstream URL -corrupt PATH_PREFIX -addr-file FILE
//
// It listens on 127.0.0.1 (a free port), writes its base URL to FILE once it listens, and
// serves until it is killed.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	upstream := flag.String("upstream", "", "base URL of the real server")
	corrupt := flag.String("corrupt", "", "path prefix whose answers are corrupted")
	addrFile := flag.String("addr-file", "", "where to write this proxy's base URL")
	flag.Parse()
	if *upstream == "" || *corrupt == "" || *addrFile == "" {
		fmt.Fprintln(os.Stderr, "usage: tamperproxy -upstream URL -corrupt PATH_PREFIX -addr-file FILE")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	// Written under another name and renamed, so a reader never sees half a URL.
	tmp := *addrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte("http://"+ln.Addr().String()+"\n"), 0o600); err != nil {
		fail(err)
	}
	if err := os.Rename(tmp, *addrFile); err != nil {
		fail(err)
	}
	base := strings.TrimSuffix(*upstream, "/")
	fail(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(base + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if strings.HasPrefix(r.URL.Path, *corrupt) && len(body) > 0 {
			body = tamper(body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	})))
}

func tamper(body []byte) []byte {
	var answer map[string]any
	if json.Unmarshal(body, &answer) == nil {
		var proof struct{ Hashes [][]byte }
		if _, ok := answer["hashes"]; ok && json.Unmarshal(body, &proof) == nil {
			if len(proof.Hashes) == 0 {
				return body
			}
			proof.Hashes[0][0] ^= 1
			answer["hashes"] = proof.Hashes
			out, err := json.Marshal(answer)
			if err != nil {
				fail(err)
			}
			return out
		}
	}
	out := bytes.Clone(body)
	out[len(out)/2] ^= 1
	return out
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "tamperproxy: %v\n", err)
	os.Exit(1)
}
