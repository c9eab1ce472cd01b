// bench_tessera: the append half of bench_translog (benchmarks/bench_translog.c) run on
// Tessera's POSIX storage, so the two logs can be compared on the same disk in the same run:
// 500-byte entries made by the same generator, the same batch sizes and appender counts, the
// same durations, and the same offered-load latency test (1,000 appends/s for 10 s, latency
// from an arrival's due time to its acknowledgement; open loop, see latency()).
//
// Durability: Tessera's POSIX driver fsyncs every entry bundle, tile and tree-state file (and
// their directories) before an append's future resolves ("sequenced"). A checkpoint covering
// the entry is published separately, at most every CheckpointInterval (100 ms here, the
// driver's minimum); bench_translog's append returns only once a synced signed checkpoint
// covers it. So each throughput case is run twice: acknowledged when sequenced, and
// acknowledged when a published checkpoint covers the entry (PublicationAwaiter), which is
// bench_translog's acknowledgement.
//
//	bench_tessera [-dir DIR] [-quick]
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

const (
	entrySize          = 500
	checkpointInterval = 100 * time.Millisecond // posix.minCheckpointInterval
	pollPeriod         = 5 * time.Millisecond
	batchMaxAge        = time.Millisecond
	latencyBatchMaxAge = 10 * time.Millisecond
)

// fillEntry is bench_translog.c's fill_entry: base64-like text, so compression gets no help.
func fillEntry(e []byte, seq uint64, id uint32) {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	n := copy(e, fmt.Sprintf("appender %d entry %d ", id, seq))
	x := (seq+1)*0x9e3779b97f4a7c15 ^ uint64(id)
	for i := n; i < len(e); i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		e[i] = b64[x&63]
	}
}

type benchLog struct {
	add      tessera.AddFn
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc // stops the appender's background jobs
}

func openLog(parent context.Context, base, name string, signer note.Signer, batch uint) *benchLog {
	return openLogAged(parent, base, name, signer, batch, batchMaxAge)
}

func openLogAged(parent context.Context, base, name string, signer note.Signer, batch uint, age time.Duration) *benchLog {
	ctx, cancel := context.WithCancel(parent)
	dir := filepath.Join(base, name)
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		die("posix.New", err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(batch, age).
		WithCheckpointInterval(checkpointInterval)
	appender, shutdown, reader, err := tessera.NewAppender(ctx, driver, opts)
	if err != nil {
		die("NewAppender", err)
	}
	return &benchLog{
		add:      appender.Add,
		awaiter:  tessera.NewPublicationAwaiter(ctx, reader.ReadCheckpoint, pollPeriod),
		shutdown: shutdown,
		cancel:   cancel,
	}
}

func (l *benchLog) close(ctx context.Context) {
	if err := l.shutdown(ctx); err != nil {
		die("shutdown", err)
	}
	l.cancel()
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "bench_tessera: %s: %v\n", what, err)
	os.Exit(1)
}

// throughput runs `appenders` goroutines, each adding `perCall` entries and then waiting for
// all of them (sequenced) or for the last one to be covered by a published checkpoint.
func throughput(ctx context.Context, l *benchLog, label string, appenders int, perCall int, seconds float64, published bool) {
	var total atomic.Uint64
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(time.Duration(seconds * float64(time.Second)))
	for a := 0; a < appenders; a++ {
		wg.Add(1)
		go func(id uint32) {
			defer wg.Done()
			futures := make([]tessera.IndexFuture, perCall)
			seq := uint64(0)
			for time.Now().Before(until) {
				for k := range futures {
					e := make([]byte, entrySize)
					fillEntry(e, seq, id)
					seq++
					futures[k] = l.add(ctx, tessera.NewEntry(e))
				}
				for _, f := range futures {
					if _, err := f(); err != nil {
						die("append", err)
					}
				}
				if published {
					if _, _, err := l.awaiter.Await(ctx, futures[perCall-1]); err != nil {
						die("await", err)
					}
				}
				total.Add(uint64(perCall))
			}
		}(uint32(a))
	}
	wg.Wait()
	ack := "sequenced"
	if published {
		ack = "in a published checkpoint"
	}
	fmt.Printf("  %-44s %9.0f appends/s  (acknowledged when %s)\n", label,
		float64(total.Load())/time.Since(start).Seconds(), ack)
}

// latency: arrival k is due at start + k/rate and is added by a goroutine of its own (an
// open loop: with Tessera's checkpoint interval an append takes over 100 ms, so 48 closed-loop
// appenders as in bench_translog could offer at most ~400 appends/s); its latency runs from the
// due time to the moment a published checkpoint covers the entry.
func latency(ctx context.Context, l *benchLog, rate float64, seconds float64) {
	count := int(rate * seconds)
	lat := make([]float64, count)
	start := time.Now().Add(50 * time.Millisecond)
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	for k := 0; k < count; k++ {
		due := start.Add(time.Duration(k) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func(k int, due time.Time) {
			defer wg.Done()
			e := make([]byte, entrySize)
			fillEntry(e, uint64(k), 999)
			if _, _, err := l.awaiter.Await(ctx, l.add(ctx, tessera.NewEntry(e))); err != nil {
				die("await", err)
			}
			lat[k] = time.Since(due).Seconds()
		}(k, due)
	}
	wg.Wait()
	sum := 0.0
	for _, v := range lat {
		sum += v
	}
	sort.Float64s(lat)
	fmt.Printf("  offered %.0f appends/s for %.0f s (%d appends, one goroutine per append):\n", rate, seconds, count)
	fmt.Printf("    append -> durable signed checkpoint: p50 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms\n",
		lat[count/2]*1e3, lat[count*99/100]*1e3, lat[count-1]*1e3, sum/float64(count)*1e3)
}

func main() {
	dirFlag := flag.String("dir", os.Getenv("TMPDIR"), "directory for the logs (same disk as bench_translog's TMPDIR)")
	quick := flag.Bool("quick", false, "1/10 of the durations (a smoke run)")
	flag.Parse()
	scale := 1.0
	if *quick {
		scale = 0.1
	}
	if *dirFlag == "" {
		*dirFlag = "/tmp"
	}
	base, err := os.MkdirTemp(*dirFlag, "bench-tessera-")
	if err != nil {
		die("mkdtemp", err)
	}
	defer os.RemoveAll(base)
	skey, _, err := note.GenerateKey(rand.Reader, "bench.example.org/log")
	if err != nil {
		die("key", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		die("signer", err)
	}
	ctx := context.Background()

	fmt.Printf("bench_tessera: Tessera %s, POSIX storage (every file fsynced; checkpoint every %v)\n", tesseraVersion(), checkpointInterval)
	fmt.Printf("  data in %s (removed at the end)\n\n", base)
	fmt.Printf("durable appends, %d-byte entries:\n", entrySize)
	cases := []struct {
		label          string
		appenders, per int
		batch          uint
	}{
		{"batch 1: one appender, tl_log_append", 1, 1, 1},
		{"batch 64: one appender, tl_log_append_batch", 1, 64, 64},
		{"batch 1024: one appender, tl_log_append_batch", 1, 1024, 1024},
		{"batch 1024: two appenders (pipelined)", 2, 1024, 1024},
		{"64 concurrent single appenders (group commit)", 64, 1, 64},
	}
	for i, c := range cases {
		for _, published := range []bool{false, true} {
			l := openLog(ctx, base, fmt.Sprintf("throughput-%d-%v", i, published), signer, c.batch)
			throughput(ctx, l, c.label, c.appenders, c.per, 5*scale, published)
			l.close(ctx)
		}
	}
	// Larger batches than the throughput cases use: at 1 ms a batch holds ~1 entry at this rate
	// and Tessera falls behind the offered load; 10 ms batches keep up.
	fmt.Printf("\nlatency (checkpoint interval %v, batches of up to 1024 entries or %v):\n", checkpointInterval, latencyBatchMaxAge)
	l := openLogAged(ctx, base, "latency", signer, 1024, latencyBatchMaxAge)
	latency(ctx, l, 1000, 10*scale)
	l.close(ctx)
}

// tesseraVersion reads the module version the binary was built with.
func tesseraVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/transparency-dev/tessera" {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}
