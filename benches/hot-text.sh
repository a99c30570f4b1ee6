#!/usr/bin/env bash
# Writes hot-text.ld: the functions the cached-token call runs, which build.rs has the linker put
# together before `.text` (benches/README.md, "Hot text"). Run it after a change that renames or
# adds functions on that path (a module moved, a dependency updated, a new toolchain), then
# benches/cached.sh, which says how much of the path the script still covers.
#
# The names come from callgrind (the functions that ran, as the binary names them) and are
# written without anything one compiler or build puts in them: legacy mangling's hash
# (`17h<16 hex digits>E`), LLVM's suffixes (`.llvm.N`, `.N`), and in v0-mangled names (`_R...`,
# the standard library's) the crates' disambiguators (`Cs<base-62>_`, which differ from one
# toolchain to the next) and the back-references whose offsets move with them (`B<base-62>_`).
# So one line covers every instantiation of a generic function and survives a rebuild or
# another toolchain; benches/hot-text-check.sh (in CI) fails when a line matches nothing. Each
# line also matches the `.text.unlikely.` copy LLVM makes of a function it thinks cold.
# Needs valgrind (installed as root when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && apt-get install -y -qq valgrind >/dev/null
fi
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --quiet --example bench-fixture -- "$work" >/dev/null
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.out" \
    "${CARGO_TARGET_DIR:-target}/release/mailtoken" "$XDG_DATA_HOME/mailtoken/account" >/dev/null 2>&1

{
    echo "/* The functions the cached-token call runs, placed together so that the kernel maps"
    echo "   fewer pages of code (build.rs; benches/README.md, \"Hot text\"). Written by"
    echo "   benches/hot-text.sh, not by hand. */"
    echo "SECTIONS"
    echo "{"
    echo "  .text.hot : {"
    benches/ran-functions.sh "$work/callgrind.out" |
        sed -e 's/17h[0-9a-f]\{16\}E\(\.llvm\.[0-9]*\)\{0,1\}$/17h*/' -e 's/\.llvm\.[0-9]*$/*/' \
            -e 's/\.[0-9][0-9]*$/*/' \
            -e '/^_R/s/Cs[0-9A-Za-z]*_/Cs*_/g' -e '/^_R/s/B[0-9A-Za-z]*_/B*_/g' |
        LC_ALL=C sort -u |
        sed 's/.*/    *(.text.& .text.unlikely.&)/'
    echo "  }"
    echo "}"
    echo "INSERT BEFORE .text;"
} > hot-text.ld
echo "hot-text.ld: $(grep -c '^    \*(' hot-text.ld) functions" >&2
