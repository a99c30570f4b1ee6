# Sourced by benches/cached.sh and benches/refresh.sh: what both measure with, and on.

# bench_needs SCRIPT PACKAGE[:COMMAND]...: each COMMAND (the package's name when not given) on
# the machine, installing the Debian PACKAGEs of those missing as root; stops otherwise.
bench_needs() {
    local script=$1 spec missing=()
    shift
    for spec in "$@"; do
        command -v "${spec#*:}" >/dev/null 2>&1 || missing+=("${spec%%:*}")
    done
    [ ${#missing[@]} = 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "$script needs ${missing[*]} (apt-get install ${missing[*]})" >&2
        exit 2
    fi
}

# bench_fixture: the release build, a fresh copy of its binary in $binary, and the fixture (an age
# identity and a token file holding a Microsoft-sized token, benches/fixture.rs) in $work, which
# goes at exit with the process $background_pid, if one was started; HOME and the XDG
# directories point into it, and $token is the account's file.
bench_fixture() {
    cargo build --release --quiet
    work=$(mktemp -d)
    background_pid=
    trap '[ -n "$background_pid" ] && kill "$background_pid"; rm -rf "$work"' EXIT
    # Time the binary as `cargo install` leaves it: a fresh copy. The linker's own output file,
    # written piecemeal, measured about 10% slower to start here than a copy of the same bytes
    # (the page cache holds the two differently), which says nothing about mailtoken.
    binary=$work/mailtoken
    install -m 755 "${CARGO_TARGET_DIR:-target}/release/mailtoken" "$binary"
    cargo run --release --quiet --example bench-fixture -- "$work" >/dev/null
    # The fixture moves HOME; rustup and cargo keep finding the toolchain where HOME had it.
    export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
    export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
    token=$XDG_DATA_HOME/mailtoken/account
}
