#!/usr/bin/env bash
# The cached-token path against `cat TOKENFILE`, side by side in one run.
#
# Targets (issues 2 and 25): at most 1.2 million instructions (callgrind, the stable figure on a
# noisy machine), a mean wall time <= 1.5 x cat's (and <= pizauth's where it runs), peak RSS
# <= 5 MiB (the median of 21 runs). Prints the figures and ratios, exits 1 when a target is missed.
# Needs hyperfine, GNU time and valgrind (Debian packages `hyperfine`, `time`, `valgrind`);
# installs them as root. With PIZAUTH_ACCOUNT=NAME and a running `pizauth server` that holds a
# token for NAME, `pizauth show NAME` (a socket round trip to the daemon) is timed in the same run.
# It measures the default build, a PIE; MAILTOKEN_NO_PIE=1 benches/cached.sh measures the
# position-dependent link (CONTRIBUTING.md, "PIE or not", compares the two).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
if ! need hyperfine || [ ! -x /usr/bin/time ] || ! need valgrind; then
    if [ "$(id -u)" = 0 ] && need apt-get; then
        apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine time valgrind >/dev/null
    else
        echo "benches/cached.sh needs hyperfine, GNU time and valgrind (apt-get install hyperfine time valgrind)" >&2
        exit 2
    fi
fi

cargo build --release --quiet
work=$(mktemp -d)
daemon_pid=
trap '[ -n "$daemon_pid" ] && kill "$daemon_pid"; rm -rf "$work"' EXIT
# Time the binary as `cargo install` leaves it: a fresh copy. The linker's own output file, written
# piecemeal, measured about 10% slower to start here than a copy of the same bytes (the page cache
# holds the two differently), which says nothing about mailtoken.
binary=$work/mailtoken
install -m 755 target/release/mailtoken "$binary"
cargo bench --quiet --bench fixture -- "$work" >/dev/null
# The daemon stand-in (below), built and copied like mailtoken.
daemon_built=$(cargo bench --no-run --quiet --bench daemon --message-format=json |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
install -m 755 "$daemon_built" "$work/daemon"
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
token=$XDG_DATA_HOME/mailtoken/account

# The cached path must print the token with no network: prove it before timing it.
[ "$("$binary" "$token" | wc -c)" -eq 2501 ] || { echo "mailtoken did not print the cached token" >&2; exit 1; }

# A daemon's client in the same run (benches/daemon.rs): the least a call like `pizauth show` can
# cost, serving the same token over a Unix socket.
"$binary" "$token" > "$work/token.txt"
"$work/daemon" serve "$work/daemon.sock" "$work/token.txt" &
daemon_pid=$!
for _ in $(seq 50); do [ -S "$work/daemon.sock" ] && break; sleep 0.1; done
cmp -s <("$work/daemon" show "$work/daemon.sock") "$work/token.txt" ||
    { echo "the daemon did not answer with the token" >&2; exit 1; }

pizauth=()
if [ -n "${PIZAUTH_ACCOUNT:-}" ]; then
    pizauth=(-n pizauth "pizauth show $PIZAUTH_ACCOUNT")
fi
hyperfine --warmup 50 --runs "${RUNS:-1000}" -N --style basic \
    --export-json "$work/times.json" \
    -n cat "cat $token" \
    -n mailtoken "$binary $token" \
    -n daemon "$work/daemon show $work/daemon.sock" "${pizauth[@]}" >&2

# Instructions, user space, the whole process (the dynamic loader included); the profile stays in
# $work/NAME.callgrind, its symbols as the binary names them.
instructions() {
    local name=$1
    shift
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$name.callgrind" "$@" \
        2>&1 >/dev/null | sed -n 's/.*Collected : //p'
}
mailtoken_ir=$(instructions mailtoken "$binary" "$token")
# Which functions the cached path ran, and where hot-text.ld put them.
benches/ran-functions.sh "$work/mailtoken.callgrind" > "$work/ran"
readelf -SW "$binary" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1 == ".text.hot" {print $3, $5}' > "$work/hot.range"
nm --defined-only "$binary" > "$work/symbols"
cat_ir=$(instructions cat cat "$token")

# Peak RSS moves by a few hundred KiB from run to run (which pages the kernel maps around each
# fault): the median of 21.
median_rss() {
    for _ in $(seq 21); do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; done | sort -n | sed -n 11p
}
rss_kib=$(median_rss "$binary" "$token")
cat_rss_kib=$(median_rss cat "$token")

python3 - "$work/times.json" "$rss_kib" "$cat_rss_kib" "$mailtoken_ir" "$cat_ir" "$work" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
cat, ours = results["cat"]["mean"], results["mailtoken"]["mean"]
ratio = ours / cat
rss_mib = int(sys.argv[2]) / 1024
cat_rss_mib = int(sys.argv[3]) / 1024
ours_ir, cat_ir = int(sys.argv[4]), int(sys.argv[5])
print(f"cat TOKENFILE:       {cat * 1000:.3f} ms mean, {cat_ir / 1e6:.2f} M instructions, peak RSS {cat_rss_mib:.1f} MiB")
print(f"mailtoken TOKENFILE: {ours * 1000:.3f} ms mean, {ours_ir / 1e6:.2f} M instructions, peak RSS {rss_mib:.2f} MiB")
ok = ratio <= 1.5 and rss_mib <= 5 and ours_ir <= 1_200_000
# Hot text: the share of the Rust functions the call ran that lie in .text.hot.
work = sys.argv[6]
where = {}
for line in open(f"{work}/symbols"):
    fields = line.split()
    if len(fields) == 3:
        where[fields[2]] = int(fields[0], 16)
rust = [where[name] for name in open(f"{work}/ran").read().split() if name in where]
hot = open(f"{work}/hot.range").read().split()
start, size = (int(hot[0], 16), int(hot[1], 16)) if hot else (0, 0)
placed = sum(start <= address < start + size for address in rust)
share = placed / len(rust) if rust else 0
print(f"hot text: {placed} of the {len(rust)} functions the call ran are in .text.hot ({size // 1024} KiB); "
      f"target >= 90 %, else run benches/hot-text.sh")
ok = ok and share >= 0.9
print(f"ratio: {ratio:.2f} x cat (target <= 1.5); {ours_ir / 1e6:.2f} M instructions (target <= 1.2); "
      f"peak RSS {rss_mib:.2f} MiB (target <= 5)")
daemon = results["daemon"]["mean"]
# Not a target: a floor under any daemon's client (pizauth show is itself a larger program).
print(f"a daemon's client:   {daemon * 1000:.3f} ms mean = {daemon / cat:.2f} x cat; "
      f"mailtoken / that floor = {ours / daemon:.2f}")
if "pizauth" in results:
    theirs = results["pizauth"]["mean"]
    print(f"pizauth show:        {theirs * 1000:.3f} ms mean; mailtoken / pizauth = {ours / theirs:.2f} (target <= 1)")
    ok = ok and ours <= theirs
sys.exit(0 if ok else 1)
PY
