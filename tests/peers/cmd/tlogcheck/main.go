// tlogcheck is an independent verifier of a bundled log, built only on the Go reference
// libraries: golang.org/x/mod/sumdb/note and sumdb/tlog (signed notes, tile math, proof
// construction), github.com/transparency-dev/formats/log (checkpoints),
// github.com/transparency-dev/merkle (RFC 6962 hasher, proof verification) and
// filippo.io/torchwood (tlog-tiles client, c2sp.org/tlog-proof files).
//
// Against a live log it
//   - verifies the served /checkpoint, and every checkpoint given with -checkpoint, under the
//     log's verifier key, with two independent checkpoint readers that must agree;
//   - reads every hash tile it needs through torchwood's tile client, which checks each tile
//     against the checkpoint's root, and every entry bundle, whose entries must hash to the
//     level-0 tile hashes;
//   - builds the inclusion proof of every leaf and the consistency proof from every older size,
//     verifies each against the checkpoint roots, and requires the daemon's JSON endpoints
//     (/v1/log/proof/inclusion, /v1/log/proof/consistency) to answer exactly the same hashes;
//   - proves every given checkpoint consistent with the served one;
//   - for every -proof FILE=ENTRY (a c2sp.org/tlog-proof@v1 file and the entry it proves),
//     verifies the file with torchwood and requires it to be byte for byte the file torchwood
//     writes from the proof built here and the same checkpoint.
//
// Exit status: 0 all checks passed, 1 a check failed (one line on stderr says which),
// 2 usage error.
//
//	tlogcheck -url URL -vkey VKEY [-checkpoint FILE]... [-proof FILE=ENTRY]...
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"filippo.io/torchwood"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	url := flag.String("url", "", "base URL of the log (serving /checkpoint and /tile/...)")
	vkey := flag.String("vkey", "", "the log's verifier key")
	var checkpoints, proofs listFlag
	flag.Var(&checkpoints, "checkpoint", "an older signed checkpoint of the log (repeatable)")
	flag.Var(&proofs, "proof", "FILE=ENTRY: a tlog-proof file and the entry it proves (repeatable)")
	flag.Parse()
	if *url == "" || *vkey == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck -url URL -vkey VKEY [-checkpoint FILE]... [-proof FILE=ENTRY]...")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlogcheck: -vkey: %v\n", err)
		os.Exit(2)
	}
	c := &checker{
		base:     strings.TrimSuffix(*url, "/"),
		verifier: verifier,
		// The log's key, for a checkpoint whose origin is the key's name.
		policy: torchwood.ThresholdPolicy(2, torchwood.OriginPolicy(verifier.Name()), torchwood.SingleVerifierPolicy(verifier)),
		hc:     &http.Client{Timeout: 20 * time.Second},
	}
	if err := c.run(context.Background(), checkpoints, proofs); err != nil {
		fmt.Fprintf(os.Stderr, "tlogcheck: FAIL: %v\n", err)
		os.Exit(1)
	}
}

type checker struct {
	base     string
	verifier note.Verifier
	policy   torchwood.Policy
	hc       *http.Client
	tree     tlog.Tree
	hashes   tlog.HashReader
}

func (c *checker) run(ctx context.Context, checkpoints, proofs []string) error {
	served, err := c.get("/checkpoint")
	if err != nil {
		return err
	}
	latest, err := c.openCheckpoint(served, "served /checkpoint")
	if err != nil {
		return err
	}
	c.tree = tlog.Tree{N: int64(latest.Size), Hash: tlog.Hash(latest.Hash)}
	fetcher, err := torchwood.NewTileFetcher(c.base, torchwood.WithHTTPClient(c.hc))
	if err != nil {
		return err
	}
	c.hashes = torchwood.TileHashReaderWithContext(ctx, c.tree, &tileCache{TileReader: fetcher})
	fmt.Printf("ok: served checkpoint %q size %d verified\n", latest.Origin, latest.Size)

	leaves, err := c.checkEntries(ctx, fetcher)
	if err != nil {
		return err
	}
	fmt.Printf("ok: %d entries match the level-0 tiles, every tile read checks against the root\n", len(leaves))
	if err := c.checkInclusion(leaves); err != nil {
		return err
	}
	fmt.Printf("ok: %d inclusion proofs built from tiles verify and equal /v1/log/proof/inclusion\n", len(leaves))
	if err := c.checkConsistency(); err != nil {
		return err
	}
	fmt.Printf("ok: %d consistency proofs built from tiles verify and equal /v1/log/proof/consistency\n", c.tree.N+1)
	for _, path := range checkpoints {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cp, err := c.openCheckpoint(data, path)
		if err != nil {
			return err
		}
		if err := c.checkPrefix(cp, path); err != nil {
			return err
		}
		fmt.Printf("ok: checkpoint %s (size %d) verified and consistent with the served one\n", path, cp.Size)
	}
	for _, arg := range proofs {
		file, entry, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("-proof %q: want FILE=ENTRY", arg)
		}
		if err := c.checkProofFile(file, entry); err != nil {
			return err
		}
		fmt.Printf("ok: tlog-proof %s verified and equal to the one built from tiles\n", file)
	}
	return nil
}

// openCheckpoint verifies a signed checkpoint with two readers: transparency-dev/formats and
// torchwood (itself on x/mod's note), which must agree on the origin, size and root.
func (c *checker) openCheckpoint(data []byte, what string) (*log.Checkpoint, error) {
	cp, _, _, err := log.ParseCheckpoint(data, c.verifier.Name(), c.verifier)
	if err != nil {
		return nil, fmt.Errorf("%s: formats/log: %v", what, err)
	}
	tw, _, err := torchwood.VerifyCheckpoint(data, c.policy)
	if err != nil {
		return nil, fmt.Errorf("%s: torchwood: %v", what, err)
	}
	if tw.Origin != cp.Origin || tw.N != int64(cp.Size) || !bytes.Equal(tw.Hash[:], cp.Hash) {
		return nil, fmt.Errorf("%s: the two checkpoint readers disagree", what)
	}
	return cp, nil
}

// checkEntries reads every entry bundle through torchwood's client (which checks each bundle
// against the level-0 tiles) and rehashes each entry independently with RFC 6962's leaf hash.
func (c *checker) checkEntries(ctx context.Context, fetcher *torchwood.TileFetcher) ([][]byte, error) {
	client, err := torchwood.NewClient(fetcher)
	if err != nil {
		return nil, err
	}
	var leaves [][]byte
	for i, entry := range client.AllEntries(ctx, c.tree, 0) {
		if i != int64(len(leaves)) {
			return nil, fmt.Errorf("entry %d came out of order", i)
		}
		tileHash, err := c.hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %v", i, err)
		}
		leaf := rfc6962.DefaultHasher.HashLeaf(entry)
		if !bytes.Equal(leaf, tileHash[0][:]) {
			return nil, fmt.Errorf("entry %d does not hash to its level-0 tile hash", i)
		}
		leaves = append(leaves, leaf)
	}
	if err := client.Err(); err != nil {
		return nil, fmt.Errorf("entries: %v", err)
	}
	if int64(len(leaves)) != c.tree.N {
		return nil, fmt.Errorf("read %d entries, the checkpoint has %d", len(leaves), c.tree.N)
	}
	return leaves, nil
}

func (c *checker) checkInclusion(leaves [][]byte) error {
	for i, leaf := range leaves {
		built, err := tlog.ProveRecord(c.tree.N, int64(i), c.hashes)
		if err != nil {
			return fmt.Errorf("inclusion of %d in %d from tiles: %v", i, c.tree.N, err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(c.tree.N), leaf, toSlices(built), c.tree.Hash[:]); err != nil {
			return fmt.Errorf("inclusion of %d in %d built from tiles does not verify: %v", i, c.tree.N, err)
		}
		served, err := c.getHashes(fmt.Sprintf("/v1/log/proof/inclusion?index=%d&size=%d", i, c.tree.N), "index", int64(i))
		if err != nil {
			return err
		}
		if err := sameHashes(served, built); err != nil {
			return fmt.Errorf("inclusion of %d in %d: the JSON endpoint %v", i, c.tree.N, err)
		}
	}
	return nil
}

// checkConsistency covers every old size 0..N. From 0 the daemon answers the empty proof
// (docs/proofs.md); tlog and transparency-dev/merkle have no proof from the empty tree.
func (c *checker) checkConsistency() error {
	for m := int64(0); m <= c.tree.N; m++ {
		var built tlog.TreeProof
		if m > 0 {
			var err error
			if built, err = c.proveTree(m); err != nil {
				return err
			}
		}
		served, err := c.getHashes(fmt.Sprintf("/v1/log/proof/consistency?old=%d&size=%d", m, c.tree.N), "old", m)
		if err != nil {
			return err
		}
		if err := sameHashes(served, built); err != nil {
			return fmt.Errorf("consistency from %d to %d: the JSON endpoint %v", m, c.tree.N, err)
		}
	}
	return nil
}

// proveTree builds the consistency proof from size m to the served tree and verifies it.
func (c *checker) proveTree(m int64) (tlog.TreeProof, error) {
	old, err := tlog.TreeHash(m, c.hashes)
	if err != nil {
		return nil, fmt.Errorf("root of size %d from tiles: %v", m, err)
	}
	built, err := tlog.ProveTree(c.tree.N, m, c.hashes)
	if err != nil {
		return nil, fmt.Errorf("consistency from %d to %d from tiles: %v", m, c.tree.N, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(m), uint64(c.tree.N), toSlices(built), old[:], c.tree.Hash[:]); err != nil {
		return nil, fmt.Errorf("consistency from %d to %d built from tiles does not verify: %v", m, c.tree.N, err)
	}
	return built, nil
}

// checkPrefix: an older checkpoint's root must be the root the tiles give for its size
// (which the consistency proof built by proveTree then ties to the served root).
func (c *checker) checkPrefix(cp *log.Checkpoint, what string) error {
	if int64(cp.Size) > c.tree.N {
		return fmt.Errorf("%s: size %d is beyond the served size %d", what, cp.Size, c.tree.N)
	}
	if cp.Size == 0 {
		if !bytes.Equal(cp.Hash, rfc6962.DefaultHasher.EmptyRoot()) {
			return fmt.Errorf("%s: size 0 with a root other than the empty tree's", what)
		}
		return nil
	}
	root, err := tlog.TreeHash(int64(cp.Size), c.hashes)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if !bytes.Equal(root[:], cp.Hash) {
		return fmt.Errorf("%s: its root is not the root of the served log's first %d entries (a fork)", what, cp.Size)
	}
	if _, err := c.proveTree(int64(cp.Size)); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	return nil
}

func (c *checker) checkProofFile(file, entryFile string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	entry, err := os.ReadFile(entryFile)
	if err != nil {
		return err
	}
	leaf := tlog.Hash(rfc6962.DefaultHasher.HashLeaf(entry))
	if err := torchwood.VerifyProof(c.policy, leaf, data); err != nil {
		return fmt.Errorf("%s: torchwood: %v", file, err)
	}
	// The fields again, to rebuild the file: header, optional extra, index, hashes, blank, note.
	var index int64
	lines := strings.SplitAfter(string(data), "\n")
	pos := 1
	if strings.HasPrefix(lines[pos], "extra ") {
		return fmt.Errorf("%s: has extra data; bundled's proof files carry none", file)
	}
	if _, err := fmt.Sscanf(lines[pos], "index %d\n", &index); err != nil {
		return fmt.Errorf("%s: index line: %v", file, err)
	}
	for pos++; pos < len(lines) && lines[pos] != "\n"; pos++ {
	}
	signed := []byte(strings.Join(lines[pos+1:], ""))
	cp, err := c.openCheckpoint(signed, file)
	if err != nil {
		return err
	}
	if err := c.checkPrefix(cp, file); err != nil {
		return err
	}
	built, err := tlog.ProveRecord(int64(cp.Size), index, c.hashes)
	if err != nil {
		return fmt.Errorf("%s: inclusion of %d in %d from tiles: %v", file, index, cp.Size, err)
	}
	if !bytes.Equal(torchwood.FormatProof(index, built, signed), data) {
		return fmt.Errorf("%s: differs from the tlog-proof torchwood writes for index %d at size %d", file, index, cp.Size)
	}
	return nil
}

func (c *checker) get(path string) ([]byte, error) {
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}

// getHashes reads a JSON proof answer; it must name the size and the index (or old size)
// asked for.
func (c *checker) getHashes(path, key string, value int64) ([][]byte, error) {
	body, err := c.get(path)
	if err != nil {
		return nil, err
	}
	var answer map[string]json.RawMessage
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	var size, got int64
	var hashes [][]byte
	if json.Unmarshal(answer["size"], &size) != nil || json.Unmarshal(answer[key], &got) != nil ||
		json.Unmarshal(answer["hashes"], &hashes) != nil || hashes == nil {
		return nil, fmt.Errorf("GET %s: not a proof answer: %s", path, body)
	}
	if size != c.tree.N || got != value {
		return nil, fmt.Errorf("GET %s: answers %s %d size %d", path, key, got, size)
	}
	return hashes, nil
}

func sameHashes(served [][]byte, built []tlog.Hash) error {
	if len(served) != len(built) {
		return fmt.Errorf("answers %d hashes, the proof built from tiles has %d", len(served), len(built))
	}
	for i := range built {
		if !bytes.Equal(served[i], built[i][:]) {
			return fmt.Errorf("differs from the proof built from tiles at hash %d", i)
		}
	}
	return nil
}

func toSlices(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// tileCache keeps the tiles tlog has verified (SaveTiles) so that each is fetched once.
type tileCache struct {
	torchwood.TileReader
	mu    sync.Mutex
	saved map[tlog.Tile][]byte
}

func (t *tileCache) ReadTiles(ctx context.Context, tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	var missing []tlog.Tile
	var where []int
	t.mu.Lock()
	for i, tile := range tiles {
		if data, ok := t.saved[tile]; ok {
			out[i] = data
		} else {
			missing = append(missing, tile)
			where = append(where, i)
		}
	}
	t.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	fetched, err := t.TileReader.ReadTiles(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(fetched) != len(missing) {
		return nil, errors.New("tile reader answered the wrong number of tiles")
	}
	for k, i := range where {
		out[i] = fetched[k]
	}
	return out, nil
}

func (t *tileCache) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.saved == nil {
		t.saved = make(map[tlog.Tile][]byte)
	}
	for i, tile := range tiles {
		t.saved[tile] = data[i]
	}
}
