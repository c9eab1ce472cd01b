#!/usr/bin/env bash
# Fails if production code (translog/, bundled/, cli/) calls a function that is unsafe on
# outside input or across threads, naming the project's replacement; in the spirit of curl's
# checksrc. Tests and benchmarks may use them. Run by `make unit`; by hand: scripts/check-banned.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# name|what to use instead
banned=(
  "strcpy|memcpy with a checked length, or tl_buf_append"
  "strcat|tl_buf_append_str"
  "strncpy|memcpy with a checked length (strncpy may leave no NUL)"
  "strncat|tl_buf_append"
  "sprintf|snprintf with a checked result, or tl_buf_printf"
  "vsprintf|vsnprintf, or tl_buf_printf"
  "gets|tl_cursor_line over a bounded read"
  "atoi|tl_parse_u64 (canonical, overflow-checked)"
  "atol|tl_parse_u64 (canonical, overflow-checked)"
  "atoll|tl_parse_u64 (canonical, overflow-checked)"
  "strtol|tl_parse_u64 (canonical, overflow-checked)"
  "strtoll|tl_parse_u64 (canonical, overflow-checked)"
  "strtoul|tl_parse_u64 (canonical, overflow-checked)"
  "strtoull|tl_parse_u64 (canonical, overflow-checked)"
  "sscanf|tl_cursor and tl_parse_u64"
  "scanf|tl_cursor and tl_parse_u64"
  "fscanf|a bounded read, then tl_cursor"
  "strtok|memchr over a tl_cursor (strtok keeps hidden state)"
  "tmpnam|mkstemp or mkdtemp"
  "tempnam|mkstemp or mkdtemp"
  "mktemp|mkstemp or mkdtemp"
  "alloca|a fixed array with a named MAX_ bound, or the heap"
  "system|posix_spawn with an argument vector (no shell)"
  "popen|posix_spawn with an argument vector (no shell)"
  "rand|randombytes_buf (libsodium)"
  "srand|randombytes_buf (libsodium)"
  "gmtime|gmtime_r"
  "localtime|localtime_r"
  "asctime|strftime"
  "ctime|strftime over localtime_r"
)

files=$(git ls-files -- 'translog/*.[ch]' 'bundled/*.[ch]' 'cli/*.[ch]' 2>/dev/null || true)
[ -n "$files" ] || files=$(find translog bundled cli -name '*.[ch]')
found=0
for entry in "${banned[@]}"; do
  name=${entry%%|*}
  instead=${entry#*|}
  # A call: the name as a whole word followed by '(' (declarations in comments rarely match;
  # a comment that must name one can say "name()" without the space-free call shape).
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    printf 'check-banned: %s: %s() is banned here; use %s\n' "$(cut -d: -f1,2 <<<"$hit")" "$name" "$instead" >&2
    found=$((found + 1))
  done < <(grep -nHE "(^|[^A-Za-z0-9_.>])${name}[[:space:]]*\(" $files | grep -vE "^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)" || true)
done
if [ "$found" -ne 0 ]; then
  echo "check-banned: $found call(s) of banned functions" >&2
  exit 1
fi
echo "check-banned: $(wc -w <<<"$files") files, no banned function"
