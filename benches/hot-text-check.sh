#!/usr/bin/env bash
# hot-text-check.sh BINARY CALLGRIND_OUT: whether hot-text.ld still fits the release BINARY (run
# by benches/cached.sh, in CI too). Two checks, each printed:
#
# - every pattern of hot-text.ld matches a function of BINARY: one that matches none names a
#   function that was renamed, moved or inlined away, or carries a hash of another toolchain;
# - at least 90 % of the Rust functions the cached call ran (CALLGRIND_OUT, a callgrind profile
#   of it written with --demangle=no) lie in BINARY's .text.hot.
#
# Exits 1 when either fails: run benches/hot-text.sh to write the script anew.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1
profile=$2
min_share=90

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nm --defined-only "$binary" > "$work/symbols"
benches/ran-functions.sh "$profile" > "$work/ran"
readelf -SW "$binary" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1 == ".text.hot" {print $3, $5}' > "$work/hot.range"
# Each line's first pattern is `.text.NAME`; the second, `.text.unlikely.NAME`, names the same.
sed -n 's/^    \*(\.text\.\([^ ]*\) .*/\1/p' hot-text.ld > "$work/patterns"

python3 - "$work" "$min_share" <<'PY'
import bisect, fnmatch, re, sys
work, min_share = sys.argv[1], int(sys.argv[2])
where = {}
for line in open(f"{work}/symbols"):
    fields = line.split()
    if len(fields) == 3:
        where[fields[2]] = int(fields[0], 16)
names = sorted(where)
patterns = open(f"{work}/patterns").read().split()
unmatched = []
for pattern in patterns:
    # Only the names that share the pattern's literal start can match it.
    prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    first = bisect.bisect_left(names, prefix)
    matched = False
    for name in names[first:]:
        if not name.startswith(prefix):
            break
        if fnmatch.fnmatchcase(name, pattern):
            matched = True
            break
    if not matched:
        unmatched.append(pattern)
hashed = [p for p in patterns if re.search(r"17h[0-9a-f]{16}E|Cs[0-9A-Za-z]{6,}_", p)]
print(f"hot-text.ld: {len(patterns) - len(unmatched)} of its {len(patterns)} patterns match a "
      f"function of the binary; {len(hashed)} carry a compiler's hash")
for pattern in unmatched[:10]:
    print(f"  matches nothing: {pattern}")
ran = [where[name] for name in open(f"{work}/ran").read().split() if name in where]
hot = open(f"{work}/hot.range").read().split()
start, size = (int(hot[0], 16), int(hot[1], 16)) if hot else (0, 0)
placed = sum(start <= address < start + size for address in ran)
share = 100 * placed / len(ran) if ran else 0
print(f"hot text: {placed} of the {len(ran)} functions the call ran are in .text.hot "
      f"({size // 1024} KiB, {share:.0f} %; at least {min_share} %)")
ok = not unmatched and not hashed and share >= min_share
if not ok:
    print("hot-text.ld no longer fits the binary: run benches/hot-text.sh")
sys.exit(0 if ok else 1)
PY
