// tamperproxy stands between a verifier and a log server on loopback and corrupts the
// answers to chosen paths, so that tests can show a verifier refuses what it is given.
// Every request is passed upstream with its headers; an answer whose path starts with
// -corrupt is altered as -mode says:
//
//	flip             (the default) in a JSON proof answer the first hash gets one bit flipped
//	                 (the JSON stays well formed; an empty proof passes unchanged), any other
//	                 body gets one bit flipped in its middle byte
//	bddr-patch       in a binary diff response (docs/formats.md, "Diff responses"), one bit
//	bddr-checkpoint  of the patch's middle byte, of the checkpoint's first line (its origin:
//	bddr-entry       the signature no longer verifies), or of the entry's SHA-256 (one hex
//	                 digit changed to another, so the entry still parses)
//	truncate         the body cut to half its length
//	slow             the answer held back 5 s
//	replay           the first answer is kept and given again to every later request
//	wrong-base       the request's from=N is sent upstream as from=N-1
//	rollback         the request is sent upstream as from=0&to=1: the server's first version
//	                 offered as the newest
//
//	tamperproxy -upstream URL -corrupt PATH_PREFIX -addr-file FILE [-mode MODE]
//
// It listens on 127.0.0.1 (a free port), writes its base URL to FILE once it listens, and
// serves until it is killed.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func main() {
	upstream := flag.String("upstream", "", "base URL of the real server")
	corrupt := flag.String("corrupt", "", "path prefix whose answers are corrupted")
	addrFile := flag.String("addr-file", "", "where to write this proxy's base URL")
	mode := flag.String("mode", "flip", "how answers are corrupted (see the source)")
	flag.Parse()
	if *upstream == "" || *corrupt == "" || *addrFile == "" {
		fmt.Fprintln(os.Stderr, "usage: tamperproxy -upstream URL -corrupt PATH_PREFIX -addr-file FILE [-mode MODE]")
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
	var mu sync.Mutex
	var kept *answer
	fail(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit := strings.HasPrefix(r.URL.Path, *corrupt)
		uri := r.URL.RequestURI()
		if hit && *mode == "wrong-base" {
			uri = lowerFrom(uri)
		}
		if hit && *mode == "rollback" {
			uri = r.URL.Path + "?from=0&to=1&" + sizeParam.FindString(uri)
		}
		a, err := fetch(base+uri, r.Header)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if hit {
			switch *mode {
			case "replay":
				mu.Lock()
				if kept == nil {
					kept = a
				}
				a = kept
				mu.Unlock()
			case "slow":
				time.Sleep(5 * time.Second)
			case "truncate":
				a.body = a.body[:len(a.body)/2]
			case "wrong-base", "rollback":
			default:
				if len(a.body) > 0 {
					a.body = tamper(a.body, *mode)
				}
			}
		}
		if ct := a.header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(a.status)
		w.Write(a.body)
	})))
}

func fetch(url string, h http.Header) (*answer, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"Accept", "If-None-Match"} {
		if v := h.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &answer{resp.StatusCode, resp.Header, body}, nil
}

var fromParam = regexp.MustCompile(`([?&])from=([0-9]+)`)
var sizeParam = regexp.MustCompile(`size=[0-9]+`)

func lowerFrom(uri string) string {
	return fromParam.ReplaceAllStringFunc(uri, func(m string) string {
		p := fromParam.FindStringSubmatch(m)
		n, _ := strconv.ParseUint(p[2], 10, 64)
		if n > 0 {
			n--
		}
		return p[1] + "from=" + strconv.FormatUint(n, 10)
	})
}

// bddr gives the offsets of a binary diff response's entry, checkpoint and patch.
func bddr(b []byte) (entry, note, patch [2]int, ok bool) {
	if len(b) < 50 || string(b[:4]) != "BDDR" {
		return
	}
	off := 48
	n := int(binary.BigEndian.Uint16(b[off:]))
	entry = [2]int{off + 2, off + 2 + n}
	off = entry[1]
	if off+4 > len(b) {
		return
	}
	n = int(binary.BigEndian.Uint32(b[off:]))
	note = [2]int{off + 4, off + 4 + n}
	off = note[1]
	for i := 0; i < 2; i++ {
		if off >= len(b) {
			return
		}
		off += 1 + 32*int(b[off])
	}
	if off+4 > len(b) {
		return
	}
	n = int(binary.BigEndian.Uint32(b[off:]))
	patch = [2]int{off + 4, off + 4 + n}
	ok = patch[1] == len(b)
	return
}

func tamper(body []byte, mode string) []byte {
	out := bytes.Clone(body)
	if strings.HasPrefix(mode, "bddr-") {
		entry, note, patch, ok := bddr(out)
		if !ok {
			fail(fmt.Errorf("%s: not a diff response", mode))
		}
		switch mode {
		case "bddr-patch":
			if patch[1] > patch[0] {
				out[(patch[0]+patch[1])/2] ^= 1
			}
		case "bddr-checkpoint":
			out[note[0]] ^= 1
		case "bddr-entry":
			i := bytes.Index(out[entry[0]:entry[1]], []byte("\nsha256 "))
			if i < 0 {
				fail(fmt.Errorf("no sha256 line in the entry"))
			}
			c := &out[entry[0]+i+8]
			if *c == '0' {
				*c = '1'
			} else {
				*c = '0'
			}
		}
		return out
	}
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
	out[len(out)/2] ^= 1
	return out
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "tamperproxy: %v\n", err)
	os.Exit(1)
}
