#!/usr/bin/env bash
# ran-functions.sh CALLGRIND_OUT: the Rust functions that ran in a callgrind profile written with
# --demangle=no, one symbol a line, as the binary names them. Shared by benches/hot-text.sh
# (which writes hot-text.ld from them) and benches/cached.sh (which checks where they lie).
#
# `fn=(ID)` lines are the functions that ran; a name is given with its ID the first time it
# appears, which may be a callee's `cfn=` line. Rust's own symbols (_ZN legacy, _R v0) are all in
# the binary; the C library's are not ours to place.
set -euo pipefail
awk '/^c?fn=\(/ {
        id = $0; sub(/^c?fn=\(/, "", id); sub(/\).*/, "", id)
        name = $0; if (sub(/^c?fn=\([0-9]+\) /, "", name)) names[id] = name
        if ($0 ~ /^fn=/) ran[id] = 1
    }
    END { for (id in ran) if (id in names) print names[id] }' "$1" |
    grep -E '^(_ZN|_R)' |
    # callgrind's marks of a recursion's depth ('2) or a cycle are not part of a name.
    sed "s/'[0-9][0-9]*\$//" | LC_ALL=C sort -u
