#!/usr/bin/env bash
# bench_translog's append cases and Tessera's (benchmarks/tessera/, POSIX storage) in one run,
# on the same disk ($TMPDIR, default /tmp), one after the other so they never share the CPU,
# then both sets of figures side by side.
#
#   benchmarks/bench_tessera.sh [--quick]      (--quick: 1/10 of the durations)
#
# bench_translog is built by make into build/bench/; bench_tessera with the pinned module of
# benchmarks/tessera/ into ${BUNDLED_CACHE:-~/.cache/bundled}/bench/ (never into the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
[ "${1:-}" = --quick ] && quick=(--quick)
cache="${BUNDLED_CACHE:-$HOME/.cache/bundled}/bench"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

make --no-print-directory -j2 build/bench/bench_translog
echo "building benchmarks/tessera into $cache"
(cd benchmarks/tessera && go build -mod=readonly -o "$cache/bench_tessera" .)

echo "machine: $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg); TMPDIR=${TMPDIR:-/tmp} on $(df -P "${TMPDIR:-/tmp}" | awk 'NR==2 {print $1}')"
echo
build/bench/bench_translog "${quick[@]}" --appends-only | tee "$out/translog"
echo
# Tessera logs through klog on stderr; only its figures go to stdout.
"$cache/bench_tessera" "${quick[@]/--quick/-quick}" 2>"$out/tessera.log" | tee "$out/tessera"
echo
echo "load average after both: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "side by side (appends/s; Tessera acknowledged when sequenced / when in a published checkpoint):"
printf '  %-46s %12s %12s %12s %8s\n' case bench_translog tessera-seq tessera-cp ratio
awk -F'  +' '
	FNR == NR && /appends\/s  \(/ { split($3, a, " "); tl[$2] = a[1]; order[++n] = $2; next }
	/appends\/s  \(/ { split($3, a, " "); if (/sequenced/) seq[$2] = a[1]; else cp[$2] = a[1] }
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "  %-46s %12s %12s %12s %7.1fx\n", k, tl[k], seq[k], cp[k], (cp[k] > 0 ? tl[k] / cp[k] : 0)
		}
	}' "$out/translog" "$out/tessera"
echo "  (ratio: bench_translog over Tessera with the same acknowledgement, a published checkpoint)"
echo
echo "append -> durable signed checkpoint, offered 1,000 appends/s:"
grep -h "append -> durable" "$out/translog" | sed 's/^ */  bench_translog /'
grep -h "append -> durable" "$out/tessera" | sed 's/^ */  tessera        /'
