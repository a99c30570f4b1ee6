# The scenarios of the end-to-end suite and their helpers; sourced by tests/e2e/run, which has
# started the servers and set ISSUER, ADMIN, CA, PORT_*, USER_LOGIN and friends.
#
# Each scenario_N runs in its own subshell with errexit on, inside its own directory $S with its own
# HOME, XDG_CONFIG_HOME, XDG_DATA_HOME and GNUPGHOME. A scenario fails at the first failed check.
# shellcheck shell=bash

# shellcheck disable=SC2034 # read by run
declare -A SCENARIO_NAMES=(
    [1]="localhostauthcode with headless Chromium; the token opens Dovecot"
    [2]="authcode: the redirected URL pasted on stdin"
    [3]="devicecode approved by a headless client while mailtoken polls"
    [4]="clientcredentials, and its renewal"
    [5]="expiry and refresh across several expiries (rotation, reuse detection)"
    [6]="32 processes at once on an expired token: one refresh"
    [7]="--test: IMAP, POP, SMTP x TLS, STARTTLS x XOAUTH2, OAUTHBEARER; a refusal exits 69"
    [8]="ssl = required on 127.0.0.2: STARTTLS works, no token before TLS"
    [9]="real clients: curl over IMAPS, msmtp through submission"
    [10]="the token file opens with age -d -i IDENTITY"
    [11]="a mutt_oauth2.py token file (gpg) keeps working"
    [12]="mbsync from its --print-config block (TLS, STARTTLS; Cyrus SASL plugin) syncs INBOX"
    [13]="neomutt and mutt from their blocks: read (tmux) and send, XOAUTH2 then OAUTHBEARER (--set)"
    [14]="offlineimap from its block: a one-shot sync; a STARTTLS server gets no block"
    [15]="the cron health check: silent while logins live, names --authorize for a revoked one"
    [16]="exim as a smarthost client: XOAUTH2 from \${run{mailtoken ...}}"
    [17]="aerc from its block, under tmux: reads (imaps+xoauth2) and sends (smtps+xoauth2)"
    [27]="msmtp (STARTTLS, TLS) and getmail from their --print-config blocks"
    [18]="the google preset: devicecode refused before any request; offline access and 127.0.0.1"
    [19]="--list and --json of three accounts: aligned, states, no secret, no request"
    [20]="--check: expired and idle accounts refreshed; after a revocation it names only that account (77)"
    [21]="the notify hook runs once for two failing calls of a mail client"
    [22]="--revoke: the provider's introspection says inactive; file and lock deleted"
    [23]="devicecode under a pseudo-terminal: QR code, countdown from the code's lifetime"
    [24]="a login ended by reuse detection needs a sign-in on every surface until one succeeds"
    [25]="an account signed in at a path is listed and kept alive by --check"
    [26]="localhostauthcode through an https://localhost redirect (a client registered only with it)"
    [30]="a write that fails keeps the login: tokens kept and adopted after; nothing spent when it cannot work"
    [31]="another local user, signed in as mallory with the sign-in's own URL, cannot deliver the redirect"
    [33]="who signed in: saved with it; as bob for alice's account refused (browser and device flow); two sign-ins at once"
    [34]="a shared mailbox: the delegate's login, the mailbox as SASL user, Dovecot opens it"
    [35]="a 3-day refresh-token lifetime the provider states: --status, --json, --list foresee it; --check --warn-days 5 warns once"
    [32]="no client id: mailtoken registers itself (RFC 7591), signs in through Chromium; a second account reuses it"
    [36]="glewlwyd: openid email on its registered port (nonce, ID token, who signed in); again without --port"
    [37]="glewlwyd: one-time refresh tokens rotate, and the new one is stored"
    [38]="glewlwyd: a spent refresh token (bare 400) ends the login: 77, refused without a reason"
    [39]="glewlwyd: --revoke of a public client's login, which glewlwyd refuses (401): said, file deleted"
    [40]="glewlwyd: devicecode approved by its headless user while mailtoken polls"
    [41]="glewlwyd: mallory signs in for alice's account: 78, nothing written"
    [42]="glewlwyd: a sign-in on a random port, refused (403): the timeout names the address and --port"
    [43]="glewlwyd: no client id: mailtoken registers a public client (RFC 7591) and signs in with it"
    [44]="a login the provider ends: the mail client's call starts a sign-in in the background; Chromium opens the hook's link"
    [45]="over ssh: a loopback sign-in finished by pasting the address the browser ended on"
)

# --- checks ------------------------------------------------------------------------------------

# On stderr, so the message reaches the log even from inside $(...).
fail() {
    echo "FAILED: $*" >&2
    exit 1
}
note() { echo "-- $*"; }
# Ends the scenario as skipped (it cannot run on this machine), with the reason.
skip() {
    echo "SKIPPED: $*"
    echo "$*" >"$S/SKIPPED"
    exit 0
}

assert_eq() { # ACTUAL EXPECTED WHAT
    [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}
assert_ne() {
    [ "$1" != "$2" ] || fail "$3: both are '$1'"
}
assert_match() { # TEXT REGEX WHAT
    [[ $1 =~ $2 ]] || fail "$3: '$1' does not match /$2/"
}
assert_file_has() { # FILE EXTENDED-REGEX WHAT
    grep -Eq -- "$2" "$1" || { sed 's/^/   > /' "$1"; fail "$3: no /$2/ in $1"; }
}
assert_file_lacks() {
    ! grep -Eq -- "$2" "$1" || { sed 's/^/   > /' "$1"; fail "$3: /$2/ found in $1"; }
}
assert_mode_600() {
    assert_eq "$(stat -c %a "$1")" 600 "mode of $1"
}

# --- running mailtoken -------------------------------------------------------------------------

# mt NAME ARGS...: runs mailtoken with no stdin; stdout, stderr and the exit code go to
# $S/NAME.out, $S/NAME.err and $S/NAME.rc (and RC).
mt() {
    local name=$1
    shift
    echo "\$ mailtoken $(printf '%q ' "$@")"
    set +e
    mailtoken "$@" >"$S/$name.out" 2>"$S/$name.err" </dev/null
    RC=$?
    set -e
    echo "$RC" >"$S/$name.rc"
    sed 's/^/   stderr: /' "$S/$name.err"
    echo "   exit $RC"
}

expect_rc() { # NAME CODE
    local got
    got=$(cat "$S/$1.rc")
    [ "$got" = "$2" ] || { sed 's/^/   stderr> /' "$S/$1.err"; fail "mailtoken ($1) exited $got, expected $2"; }
}

# The stdout of run NAME must be exactly one line holding an opaque oidc-provider token; prints it.
token_from() {
    local file=$S/$1.out lines token
    lines=$(wc -l <"$file")
    [ "$lines" = 1 ] || fail "stdout of $1 has $lines lines, expected exactly 1"
    [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n' ] || fail "stdout of $1 does not end in a newline"
    token=$(cat "$file")
    assert_match "$token" '^[A-Za-z0-9_-]{43}$' "stdout of $1"
    printf '%s' "$token"
}

# --- the provider ------------------------------------------------------------------------------

set_ttl() { curl -fsS -X POST "$ADMIN/e2e/ttl?seconds=$1" >/dev/null; }
reset_counts() { curl -fsS -X POST "$ADMIN/e2e/reset" >/dev/null; }
# count GRANT_TYPE OUTCOME: token requests seen since the last reset ("ok" or an error code); 0
# when the provider saw none. A counter that cannot be read fails the scenario and prints
# nothing, never a 0 that a check could take for "none".
count() {
    curl -fsS "$ADMIN/e2e/counts" >"$S/counts.json" || fail "the provider's counts cannot be read"
    node "$HERE/json.mjs" count "$S/counts.json" "$1" "$2" || fail "no count of $1 $2"
}
counts_json() { curl -fsS "$ADMIN/e2e/counts"; }

# introspect TOKEN: prints "active username" as the provider sees the token (what Dovecot sees).
introspect() {
    curl -fsS -u "$E2E_INTROSPECT_ID:$E2E_INTROSPECT_SECRET" --data-urlencode "token=$1" \
        "$ADMIN/token/introspection" >"$S/introspection.json"
    printf '%s %s\n' "$(node "$HERE/json.mjs" get "$S/introspection.json" active)" \
        "$(node "$HERE/json.mjs" get "$S/introspection.json" username 2>/dev/null || echo -)"
}
assert_active() { # TOKEN USER
    assert_eq "$(introspect "$1")" "true $2" "introspection of the token"
}

# obtain_login OUT: signs $USER_LOGIN in headlessly (code flow with PKCE, as the public client)
# and stores the token response in OUT. No mailtoken involved.
obtain_login() {
    node "$HERE/login.mjs" tokens "${2:-$USER_LOGIN}" >"$1" || fail "headless sign-in failed"
}

# --- token files -------------------------------------------------------------------------------

# An age identity at mailtoken's default place; prints nothing, sets RECIPIENT and IDENTITY.
new_identity() {
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    mkdir -p "$(dirname "$IDENTITY")"
    (umask 077 && age-keygen -o "$IDENTITY" 2>/dev/null)
    RECIPIENT=$(age-keygen -y "$IDENTITY")
}

# write_tokenfile TOKENS FILE [EXTRA-OPTIONS-JSON-MEMBERS]: a schema-1 file for $USER_LOGIN,
# encrypted with the age CLI to $RECIPIENT, mode 0600, with implicit-TLS endpoints by default.
write_tokenfile() {
    local tokens=$1 file=$2 extra=${3:-}
    local options
    options=$(printf '{"issuer":"%s","client_id":"%s","email":"%s","recipients":["%s"],"endpoints":{"imap":"imaps://127.0.0.1:%s","pop":"pop3s://127.0.0.1:%s","smtp":"smtps://127.0.0.1:%s"}%s}' \
        "$ISSUER" "$E2E_CLIENT_ID" "$USER_LOGIN" "$RECIPIENT" "$PORT_IMAPS" "$PORT_POP3S" "$PORT_SUBMISSIONS" "${extra:+,$extra}")
    mkdir -p "$(dirname "$file")"
    node "$HERE/json.mjs" tokenfile "$tokens" "$options" | (umask 077 && age -r "$RECIPIENT" -o "$file")
    chmod 600 "$file"
}

# decrypt FILE: the plaintext JSON via the standard age CLI, into FILE.json.
decrypt() {
    age -d -i "$IDENTITY" "$1" >"$1.json" || fail "age -d -i $IDENTITY $1 failed"
}
field() { node "$HERE/json.mjs" get "$1.json" "$2" 2>/dev/null || echo "(absent)"; }

# Checks the token file after a successful run that printed TOKEN.
check_tokenfile() { # FILE TOKEN FLOW EMAIL [refresh|norefresh]
    local file=$1 token=$2 flow=$3 email=$4 refresh=${5:-refresh}
    [ -f "$file" ] || fail "no token file at $file"
    assert_mode_600 "$file"
    assert_eq "$(head -c 21 "$file")" "age-encryption.org/v1" "the token file's header"
    decrypt "$file"
    assert_eq "$(field "$file" version)" 1 "schema version"
    assert_eq "$(field "$file" access_token)" "$token" "access token in the file"
    assert_eq "$(field "$file" flow)" "$flow" "flow in the file"
    assert_eq "$(field "$file" email)" "$email" "e-mail in the file"
    assert_eq "$(field "$file" registration.token_endpoint)" "$ISSUER/token" "token endpoint in the file"
    local expiry
    expiry=$(date -d "$(field "$file" access_token_expiry)" +%s) || fail "unreadable access_token_expiry"
    [ "$expiry" -gt "$(date +%s)" ] || fail "the stored access token has already expired"
    if [ "$refresh" = refresh ]; then
        [ "$(field "$file" refresh_token)" != "(absent)" ] || fail "no refresh token stored"
    else
        assert_eq "$(field "$file" refresh_token)" "(absent)" "refresh token"
    fi
}

# --- mail --------------------------------------------------------------------------------------

# imap_fetch TOKEN USER [URL]: curl logs in with OAUTHBEARER and fetches the seeded message.
imap_fetch() {
    curl -sS --max-time 20 --cacert "$CA" --user "$2:" --oauth2-bearer "$1" \
        "${3:-imaps://127.0.0.1:$PORT_IMAPS/INBOX;UID=1}"
}
assert_opens_mailbox() { # TOKEN USER
    imap_fetch "$1" "$2" >"$S/fetched.eml" || fail "curl could not fetch over IMAPS as $2"
    assert_file_has "$S/fetched.eml" '^Subject: e2e seeded message' "the fetched message"
}
assert_opens_robot_mailbox() { # TOKEN USER: an empty INBOX; EXAMINE succeeds
    curl -sS --max-time 20 --cacert "$CA" --user "$2:" --oauth2-bearer "$1" \
        "imaps://127.0.0.1:$PORT_IMAPS/INBOX" -X 'EXAMINE INBOX' >"$S/examine.txt" \
        || fail "curl could not log in over IMAPS as $2"
}

dovecot_mark() { wc -c <"$W/dovecot/dovecot.log" | tr -d ' ' >"$S/dovecot.mark"; }
dovecot_since() { tail -c +"$(($(cat "$S/dovecot.mark") + 1))" "$W/dovecot/dovecot.log"; }

b64() { base64 -w0; }
sasl_xoauth2() { printf 'user=%s\001auth=Bearer %s\001\001' "$1" "$2" | b64; }
sasl_oauthbearer() { printf 'n,a=%s,\001host=%s\001port=%s\001auth=Bearer %s\001\001' "$1" "$3" "$4" "$2" | b64; }

# Waits up to SECONDS for FILE to match REGEX while process PID runs.
wait_for_text() { # PID FILE REGEX SECONDS
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        grep -Eq -- "$3" "$2" 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || { grep -Eq -- "$3" "$2" 2>/dev/null; return; }
        sleep 0.1
    done
    return 1
}

# Waits up to SECONDS for process PID to end and records its exit code in $S/NAME.rc; fails if it
# is still running then.
wait_exit() { # PID NAME SECONDS WHAT
    local i
    for ((i = 0; i < $3 * 10; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null
        fail "$4"
    fi
    set +e
    wait "$1"
    echo $? >"$S/$2.rc"
    set -e
}

# The pids of the notify hooks that the --verbose runs NAME... started: mailtoken says "ran the
# notify hook PATH (pid N)" for each before it exits, so what the finished runs do not say, they
# did not start. (The hook runs detached: this, not a sleep, is how a scenario knows that no
# other hook will still write.)
hooks_started() { # NAME...
    local name
    for name in "$@"; do
        sed -n 's/.*ran the notify hook .* (pid \([0-9]*\))$/\1/p' "$S/$name.err"
    done
}

# Waits up to 10 s for RECORD to hold a line ending in "|pid=PID" for each PID (the hooks of
# scenarios 21 and 24 end their line with their own pid); fails naming the hook that never wrote.
wait_for_hooks() { # RECORD PID...
    local record=$1 pid i
    shift
    for pid in "$@"; do
        for ((i = 0; i < 100; i++)); do
            grep -q -- "|pid=$pid\$" "$record" 2>/dev/null && break
            sleep 0.1
        done
        grep -q -- "|pid=$pid\$" "$record" 2>/dev/null || fail "the notify hook $pid never wrote to $record"
    done
}

# Waits (15 s at most, by the clock: each look at the counts takes a while) until the provider has
# answered the background mailtoken PID's device-code poll with authorization_pending, i.e. it
# is polling before anyone approves; gives up on it otherwise, rather than approve anyway.
wait_for_polling() { # PID GRANT
    local deadline=$((SECONDS + 15))
    while ((SECONDS < deadline)); do
        [ "$(count "$2" authorization_pending)" -ge 1 ] && return 0
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    [ "$(count "$2" authorization_pending)" -ge 1 ] || gave_up "$1" auth "mailtoken did not poll the token endpoint (no authorization_pending)"
}

# For a background mailtoken that did not get as far as expected: its output, and the failure.
gave_up() { # PID NAME WHAT
    kill "$1" 2>/dev/null || true
    set +e
    wait "$1"
    local rc=$?
    set -e
    sed 's/^/   stderr: /' "$S/$2.err"
    [ ! -s "$S/script.log" ] || sed 's/^/   terminal: /' "$S/script.log"
    fail "$3 (exit status $rc)"
}

# Flags that describe the test provider to --authorize (as a user of a custom provider would).
authorize_flags() {
    AUTH_FLAGS=(--provider e2e --issuer "$ISSUER" --client-id "$E2E_CLIENT_ID" --client-secret ""
        --scope "openid offline_access mail" --email "$USER_LOGIN" --sasl-method XOAUTH2
        --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS" --pop-endpoint "pop3s://127.0.0.1:$PORT_POP3S"
        --smtp-endpoint "smtps://127.0.0.1:$PORT_SUBMISSIONS" --auth-timeout 60)
}

# What every successful --authorize scenario checks afterwards.
after_authorize() { # NAME FILE FLOW
    local token
    expect_rc "$1" 0
    token=$(token_from "$1")
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    [ -f "$IDENTITY" ] || fail "mailtoken created no age identity at $IDENTITY"
    check_tokenfile "$2" "$token" "$3" "$USER_LOGIN"
    assert_active "$token" "$USER_LOGIN"
    assert_opens_mailbox "$token" "$USER_LOGIN"
    # The next call prints the same token from the file, silently and without the network.
    mt again "$2"
    expect_rc again 0
    assert_eq "$(token_from again)" "$token" "the cached token on the next call"
    [ ! -s "$S/again.err" ] || fail "the cached call wrote to stderr"
}

# browser_sign_in NAME TOKENFILE: --authorize --authflow localhostauthcode with the test
# provider's flags, headless Chromium signing $USER_LOGIN in; the run's files are $S/NAME.*.
browser_sign_in() {
    authorize_flags
    with_browser "$1" --authorize --authflow localhostauthcode "${AUTH_FLAGS[@]}" "$2"
}

# with_browser NAME ARGS...: mailtoken ARGS with headless Chromium as $BROWSER, signing
# $USER_LOGIN in, and the browser's log ($S/NAME-browser.log) shown once it has finished.
with_browser() {
    export BROWSER=$HERE/browser.sh E2E_LOGIN=$USER_LOGIN E2E_BROWSER_LOG=$S/$1-browser.log
    mt "$@"
    # The driver runs in the background and may log its last lines after mailtoken has finished.
    local i
    for ((i = 0; i < 150 && RC == 0; i++)); do
        [ -f "$E2E_BROWSER_LOG" ] || break
        grep -Eq 'page says|failed|gave up' "$E2E_BROWSER_LOG" && break
        sleep 0.1
    done
    sed 's/^/   browser: /' "$E2E_BROWSER_LOG" 2>/dev/null || true
}

# --- the scenarios -----------------------------------------------------------------------------

scenario_1() {
    reset_counts
    browser_sign_in auth "$S/token"
    expect_rc auth 0
    # The default redirect is the IP literal, which the provider matches on any port; it has no
    # localhost redirect registered, so this also shows that the default works with a strict one.
    assert_file_has "$S/auth-browser.log" 'redirected to http://127\.0\.0\.1:[0-9]+/' "the browser's redirect"
    after_authorize auth "$S/token" localhostauthcode
    assert_eq "$(counts_json)" '{"authorization_code":{"ok":1}}' "token-endpoint requests"
}

scenario_2() {
    authorize_flags
    reset_counts
    local fifo=$S/stdin.fifo url redirected
    mkfifo "$fifo"
    echo "\$ mailtoken --authorize --authflow authcode ... (under a pseudo-terminal, input from $fifo)"
    # script(1) gives mailtoken a terminal as stdin, where a person would paste; stdout and stderr
    # still go to files of their own.
    set +e
    script -qfec "$(printf '%q ' mailtoken --authorize --authflow authcode "${AUTH_FLAGS[@]}" "$S/token") >$S/auth.out 2>$S/auth.err" \
        /dev/null <"$fifo" >"$S/script.log" 2>&1 &
    local pid=$!
    set -e
    exec 7>"$fifo"
    wait_for_text "$pid" "$S/auth.err" "https://127\.0\.0\.1:$PORT_PROVIDER/auth\?" 20 \
        || gave_up "$pid" auth "mailtoken printed no authorization URL"
    url=$(grep -Eo "https://127\.0\.0\.1:$PORT_PROVIDER/auth\?[^[:space:]\"'<>]+" "$S/auth.err" | head -n 1 | sed 's/[).,;:]*$//')
    note "signing in at the printed URL"
    redirected=$(node "$HERE/login.mjs" follow "$url" "$USER_LOGIN") || gave_up "$pid" auth "headless sign-in failed"
    note "pasting the redirected URL (${#redirected} characters)"
    printf '%s\n' "$redirected" >&7
    wait_exit "$pid" auth 30 "mailtoken did not finish after the paste"
    exec 7>&-
    sed 's/^/   stderr: /' "$S/auth.err"
    after_authorize auth "$S/token" authcode
    assert_eq "$(counts_json)" '{"authorization_code":{"ok":1}}' "token-endpoint requests"
}

scenario_3() {
    local grant=urn:ietf:params:oauth:grant-type:device_code
    authorize_flags
    reset_counts
    echo "\$ mailtoken --authorize --authflow devicecode ... &"
    set +e
    mailtoken --authorize --authflow devicecode "${AUTH_FLAGS[@]}" "$S/token" \
        >"$S/auth.out" 2>"$S/auth.err" </dev/null &
    local pid=$!
    set -e
    wait_for_text "$pid" "$S/auth.err" "https://127\.0\.0\.1:$PORT_PROVIDER/device" 20 \
        || gave_up "$pid" auth "mailtoken showed no verification URI"
    # The user code comes with or after the URI (in it, or on a line of its own): wait for it.
    wait_for_text "$pid" "$S/auth.err" '\b[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}\b' 10 \
        || gave_up "$pid" auth "mailtoken showed no user code"
    local uri code
    uri=$(grep -Eo "https://127\.0\.0\.1:$PORT_PROVIDER/device[^[:space:]\"'<>]*" "$S/auth.err" | grep -v '/device/auth' | grep 'user_code=' | head -n 1 | sed 's/[).,;:]*$//' || true)
    code=$(grep -Eo '\b[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}\b' "$S/auth.err" | head -n 1 || true)
    if [ -z "$uri" ]; then
        uri=$(grep -Eo "https://127\.0\.0\.1:$PORT_PROVIDER/device[^[:space:]\"'<>]*" "$S/auth.err" | grep -v '/device/auth' | head -n 1 | sed 's/[).,;:]*$//')
        [ -n "$code" ] || gave_up "$pid" auth "no user code on stderr"
    fi
    # Approve only once mailtoken is polling, as a person on another device would.
    wait_for_polling "$pid" "$grant"
    note "approving at $uri"
    node "$HERE/login.mjs" device "$uri" "$USER_LOGIN" ${code:+"$code"} || gave_up "$pid" auth "the approval failed"
    # The provider's interval is 1 s; allow for a few polls.
    wait_exit "$pid" auth 30 "mailtoken kept polling after the approval"
    sed 's/^/   stderr: /' "$S/auth.err"
    after_authorize auth "$S/token" devicecode
    assert_eq "$(count "$grant" ok)" 1 "successful device-code polls"
    note "provider counts: $(counts_json)"
}

scenario_4() {
    local file=$S/robot token renewed
    export MAILTOKEN_CLIENT_SECRET=$E2E_ROBOT_SECRET
    reset_counts
    mt auth --authorize --authflow clientcredentials --provider e2e --token-endpoint "$ISSUER/token" \
        --client-id "$E2E_ROBOT_ID" --scope mail --email "$E2E_ROBOT_ID" --sasl-method XOAUTH2 \
        --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS" "$file"
    unset MAILTOKEN_CLIENT_SECRET
    expect_rc auth 0
    token=$(token_from auth)
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    check_tokenfile "$file" "$token" clientcredentials "$E2E_ROBOT_ID" norefresh
    assert_eq "$(field "$file" client_secret)" "$E2E_ROBOT_SECRET" "client secret stored for renewals"
    assert_eq "$(count client_credentials ok)" 1 "client_credentials requests"
    assert_active "$token" "$E2E_ROBOT_ID"
    assert_opens_robot_mailbox "$token" "$E2E_ROBOT_ID"
    # Renewal repeats the client-credentials grant; no user, no refresh token.
    mt renew --force-refresh "$file"
    expect_rc renew 0
    renewed=$(token_from renew)
    assert_ne "$renewed" "$token" "token after --force-refresh"
    assert_eq "$(count client_credentials ok)" 2 "client_credentials requests after renewal"
    check_tokenfile "$file" "$renewed" clientcredentials "$E2E_ROBOT_ID" norefresh
    assert_active "$renewed" "$E2E_ROBOT_ID"
}

scenario_5() {
    local file=$S/token ttl=6 first printed previous=none distinct=0 i started
    new_identity
    set_ttl $ttl
    obtain_login "$S/login.json"
    local first_refresh
    first_refresh=$(node "$HERE/json.mjs" get "$S/login.json" refresh_token)
    write_tokenfile "$S/login.json" "$file"
    reset_counts
    # A call every second for 18 s: with 6-second tokens that spans several expiries. Every
    # printed token must be live at the provider when printed.
    started=$(date +%s)
    i=0
    while [ $(($(date +%s) - started)) -lt 18 ]; do
        i=$((i + 1))
        mt "call$i" "$file"
        expect_rc "call$i" 0
        printed=$(token_from "call$i")
        assert_active "$printed" "$USER_LOGIN"
        if [ "$printed" != "$previous" ]; then distinct=$((distinct + 1)); previous=$printed; fi
        sleep 1
    done
    note "$i calls, $distinct distinct tokens, provider counts: $(counts_json)"
    [ "$distinct" -ge 4 ] || fail "only $distinct distinct tokens in 18 s of 6-second tokens: no refresh across expiries"
    assert_eq "$(count refresh_token ok)" "$((distinct - 1))" "successful refreshes (one per new token)"
    assert_eq "$(count refresh_token invalid_grant)" 0 "refresh requests rejected (a reused refresh token)"
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$previous" "the file's access token after the calls"
    assert_ne "$(field "$file" refresh_token)" "$first_refresh" "the refresh token (rotated)"
    set_ttl "$DEFAULT_TTL"
    mt last --force-refresh "$file"
    expect_rc last 0
    check_tokenfile "$file" "$(token_from last)" localhostauthcode "$USER_LOGIN"
    assert_opens_mailbox "$(token_from last)" "$USER_LOGIN"
    # Reuse detection is really on: the first, long-rotated refresh token sent again is refused
    # and takes the whole login with it. mailtoken then says to sign in again (exit 77), prints
    # nothing on stdout, and leaves the file as it was.
    local reuse
    reuse=$(curl -sS --cacert "$CA" -o "$S/reuse.json" -w '%{http_code}' --data-urlencode "grant_type=refresh_token" \
        --data-urlencode "refresh_token=$first_refresh" --data-urlencode "client_id=$E2E_CLIENT_ID" "$ISSUER/token")
    assert_eq "$reuse $(node "$HERE/json.mjs" get "$S/reuse.json" error)" "400 invalid_grant" "reusing the first refresh token"
    cp -p "$file" "$S/token.before"
    mt revoked --force-refresh "$file"
    expect_rc revoked 77
    assert_eq "$(wc -c <"$S/revoked.out" | tr -d ' ')" 0 "stdout after the login was revoked"
    assert_file_has "$S/revoked.err" "--authorize" "the hint after the login was revoked"
    cmp -s "$file" "$S/token.before" || fail "the token file changed although the refresh failed"
}

scenario_6() {
    local file=$S/token old i first
    new_identity
    obtain_login "$S/login.json"
    old=$(node "$HERE/json.mjs" get "$S/login.json" access_token)
    write_tokenfile "$S/login.json" "$file" '"expired":true'
    reset_counts
    echo "\$ 32 x mailtoken $file, at once"
    local pids=()
    for i in $(seq 1 32); do
        mailtoken "$file" >"$S/p$i.out" 2>"$S/p$i.err" </dev/null &
        pids+=($!)
    done
    for i in $(seq 1 32); do
        set +e
        wait "${pids[$((i - 1))]}"
        echo $? >"$S/p$i.rc"
        set -e
    done
    note "provider counts: $(counts_json)"
    for i in $(seq 1 32); do expect_rc "p$i" 0; done
    first=$(token_from p1)
    assert_ne "$first" "$old" "the token after the storm (the expired one was printed)"
    for i in $(seq 2 32); do assert_eq "$(token_from "p$i")" "$first" "stdout of process $i"; done
    assert_eq "$(counts_json)" "{\"refresh_token\":{\"ok\":1}}" "token-endpoint requests during the storm"
    check_tokenfile "$file" "$first" localhostauthcode "$USER_LOGIN"
    assert_active "$first" "$USER_LOGIN"
    # The login survived: had any process sent the old refresh token again, the provider would
    # have revoked the grant, and this refresh would fail.
    mt after --force-refresh "$file"
    expect_rc after 0
    local after
    after=$(token_from after)
    assert_ne "$after" "$first" "token after one more refresh"
    assert_eq "$(count refresh_token ok)" 2 "successful refreshes"
    assert_eq "$(count refresh_token invalid_grant)" 0 "rejected refreshes"
    assert_active "$after" "$USER_LOGIN"
    assert_opens_mailbox "$after" "$USER_LOGIN"
}

# The line --test prints for a protocol that logged in, e.g.
# "IMAP  imaps://127.0.0.1:993  XOAUTH2  ok  (0.21 s)".
test_line() { # PROTOCOL METHOD
    printf '(^|: )%s[[:space:]].*%s.*[[:space:]]ok([[:space:]]|$)' "$1" "$2"
}

# The Dovecot log lines of successful logins since the mark, per service and mechanism.
logins_since_mark() { # SERVICE METHOD USER
    dovecot_since | grep -cE "$1-login: (Info: )?Login: user=<$3>, method=$2," || true
}

scenario_7() {
    new_identity
    local tls=$S/tls starttls=$S/starttls wrong=$S/wrong method file
    obtain_login "$S/login-tls.json"
    obtain_login "$S/login-starttls.json"
    obtain_login "$S/login-wrong.json"
    write_tokenfile "$S/login-tls.json" "$tls"
    write_tokenfile "$S/login-starttls.json" "$starttls" \
        "$(printf '"endpoints":{"imap":"imap://127.0.0.1:%s","pop":"pop3://127.0.0.1:%s","smtp":"smtp://127.0.0.1:%s"}' "$PORT_IMAP" "$PORT_POP3" "$PORT_SUBMISSION")"
    dovecot_mark
    for file in "$tls" "$starttls"; do
        for method in XOAUTH2 OAUTHBEARER; do
            local name
            name=test-$(basename "$file")-$method
            mt "$name" --test --sasl-method "$method" "$file"
            expect_rc "$name" 0
            assert_eq "$(wc -c <"$S/$name.out" | tr -d ' ')" 0 "stdout of --test"
            local protocol
            for protocol in IMAP POP SMTP; do
                assert_file_has "$S/$name.err" "$(test_line "$protocol" "$method")" "--test's $protocol line"
            done
        done
    done
    # What --test printed, counted: one green line per protocol and run, no more (the checks
    # above would pass with a line said twice).
    assert_eq "$(cat "$S"/test-*.err | grep -cE "$(test_line '(IMAP|POP|SMTP)' '(XOAUTH2|OAUTHBEARER)')")" 12 "green protocol lines"
    # Every login worked with the cached tokens, so neither file was refreshed or rewritten.
    decrypt "$tls"
    assert_eq "$(field "$tls" access_token)" "$(node "$HERE/json.mjs" get "$S/login-tls.json" access_token)" "the implicit-TLS file's token after --test"
    decrypt "$starttls"
    assert_eq "$(field "$starttls" access_token)" "$(node "$HERE/json.mjs" get "$S/login-starttls.json" access_token)" "the STARTTLS file's token after --test"
    # Dovecot saw every one of the 12 logins, each with the right mechanism.
    for method in XOAUTH2 OAUTHBEARER; do
        assert_eq "$(logins_since_mark imap "$method" "$USER_LOGIN")" 2 "Dovecot IMAP logins with $method"
        assert_eq "$(logins_since_mark pop3 "$method" "$USER_LOGIN")" 2 "Dovecot POP3 logins with $method"
        assert_eq "$(logins_since_mark submission "$method" "$USER_LOGIN")" 2 "Dovecot submission logins with $method"
    done
    # A real refusal: the token is alice's, the file names another address.
    USER_LOGIN=$OTHER_ADDRESS write_tokenfile "$S/login-wrong.json" "$wrong"
    mt refused --test --protocol imap "$wrong"
    expect_rc refused 69
    assert_eq "$(wc -c <"$S/refused.out" | tr -d ' ')" 0 "stdout of a refused --test"
    assert_file_has "$S/refused.err" "(e-?mail|address|user)" "the explanation of the refusal"
    assert_file_has "$S/refused.err" "$OTHER_ADDRESS|signed[- ]in|does not match|mismatch" "the explanation names the mismatch"
    decrypt "$wrong"
    assert_eq "$(field "$wrong" email)" "$OTHER_ADDRESS" "the e-mail address in the refused file"
}

scenario_8() {
    new_identity
    local file=$S/token token method reply
    # First, the server really is strict there: AUTH before STARTTLS is refused.
    reply=$( {
        exec 3<>"/dev/tcp/127.0.0.2/$PORT_IMAP"
        timeout 5 head -n 1 <&3
        printf 'a1 AUTHENTICATE XOAUTH2 %s\r\n' "$(sasl_xoauth2 "$USER_LOGIN" not-a-token)" >&3
        timeout 5 head -n 1 <&3
        printf 'a2 LOGOUT\r\n' >&3
    } 2>&1 || true)
    echo "$reply" | sed 's/^/   plain imap on 127.0.0.2: /'
    [[ $reply == *"a1 "[NB][OA]* ]] || fail "Dovecot on 127.0.0.2 did not refuse AUTH before STARTTLS"
    [[ $reply == *"a1 OK"* ]] && fail "Dovecot on 127.0.0.2 accepted AUTH before STARTTLS"
    obtain_login "$S/login.json"
    token=$(node "$HERE/json.mjs" get "$S/login.json" access_token)
    # Only this scenario's connections count (the harness probed the spy's ports at start).
    rm -f "$W"/spy/*.c2s
    write_tokenfile "$S/login.json" "$file" \
        "$(printf '"endpoints":{"imap":"imap://127.0.0.2:%s","pop":"pop3://127.0.0.2:%s","smtp":"smtp://127.0.0.2:%s"}' "$PORT_SPY_IMAP" "$PORT_SPY_POP3" "$PORT_SPY_SUBMISSION")"
    dovecot_mark
    for method in XOAUTH2 OAUTHBEARER; do
        mt "test-$method" --test --sasl-method "$method" "$file"
        expect_rc "test-$method" 0
        local protocol
        for protocol in IMAP POP SMTP; do
            assert_file_has "$S/test-$method.err" "$(test_line "$protocol" "$method")" "--test's $protocol line"
        done
        local protocol_service
        for protocol_service in imap pop3 submission; do
            assert_eq "$(logins_since_mark "$protocol_service" "$method" "$USER_LOGIN")" 1 "$protocol_service logins on 127.0.0.2 with $method"
        done
        dovecot_since | grep "Login: user=<$USER_LOGIN>" >"$S/logins-$method.txt" || true
        assert_file_lacks "$S/logins-$method.txt" 'lip=127\.0\.0\.1,' "logins not on 127.0.0.2"
        grep -c ', TLS,' "$S/logins-$method.txt" | grep -qx 3 || fail "not every login on 127.0.0.2 was over TLS"
        dovecot_mark
    done
    # What crossed in the clear: each connection's bytes up to the TLS handshake.
    local recorded=0 capture clear
    for capture in "$W"/spy/*.c2s; do
        [ -s "$capture" ] || continue
        recorded=$((recorded + 1))
        # A TLS record starts with 0x16 0x03; everything before it was sent unencrypted.
        clear=$(LC_ALL=C grep -abo $'\x16\x03' "$capture" | head -n 1 | cut -d: -f1 || true)
        [ -n "$clear" ] || fail "$(basename "$capture"): no TLS handshake at all"
        head -c "$clear" "$capture" >"$capture.clear"
        note "$(basename "$capture") in the clear: $(tr '\r\n' '  ' <"$capture.clear")"
        assert_file_has "$capture.clear" 'STARTTLS|STLS' "$(basename "$capture"): STARTTLS before the handshake"
        assert_file_lacks "$capture.clear" '(^|[^A-Z])AUTH' "$(basename "$capture"): AUTH before TLS"
        ! LC_ALL=C grep -aqF -- "$token" "$capture" || fail "$(basename "$capture"): the token crossed in the clear"
        local forms=("$(sasl_xoauth2 "$USER_LOGIN" "$token")")
        local host_port
        for host_port in "$PORT_SPY_IMAP" "$PORT_SPY_POP3" "$PORT_SPY_SUBMISSION"; do
            forms+=("$(sasl_oauthbearer "$USER_LOGIN" "$token" 127.0.0.2 "$host_port")")
        done
        local form
        for form in "${forms[@]}"; do
            ! LC_ALL=C grep -aqF -- "$form" "$capture" || fail "$(basename "$capture"): a SASL string crossed in the clear"
        done
    done
    [ "$recorded" -ge 6 ] || fail "only $recorded connections went through the spy (expected 6)"
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$token" "the file's token after --test"
    assert_mode_600 "$file"
}

scenario_9() {
    new_identity
    local file=$S/token conf=$S/msmtprc token
    obtain_login "$S/login.json"
    write_tokenfile "$S/login.json" "$file"
    # curl, with the token from mailtoken on its command line as users write it.
    echo "\$ curl --oauth2-bearer \"\$(mailtoken $file)\" imaps://127.0.0.1:$PORT_IMAPS/INBOX;UID=1"
    curl -sS --max-time 20 --cacert "$CA" --user "$USER_LOGIN:" --oauth2-bearer "$(mailtoken "$file")" \
        "imaps://127.0.0.1:$PORT_IMAPS/INBOX;UID=1" >"$S/fetched.eml" || fail "curl failed"
    assert_file_has "$S/fetched.eml" '^Subject: e2e seeded message' "the message curl fetched"
    # msmtp, through Dovecot submission (STARTTLS, XOAUTH2; then implicit TLS, OAUTHBEARER).
    cat >"$conf" <<EOF
defaults
tls on
tls_trust_file $CA
logfile $S/msmtp.log
from $USER_LOGIN
user $USER_LOGIN
passwordeval "mailtoken $file"

account starttls
host 127.0.0.1
port $PORT_SUBMISSION
tls_starttls on
auth xoauth2

account implicit
host 127.0.0.1
port $PORT_SUBMISSIONS
tls_starttls off
auth oauthbearer

account default : starttls
EOF
    chmod 600 "$conf"
    local account marker
    for account in starttls implicit; do
        marker="e2e-msmtp-$account-$RANDOM$RANDOM"
        echo "\$ msmtp -C $conf -a $account bob@mail.test"
        printf 'From: %s\nTo: bob@mail.test\nSubject: %s\n\nSent by msmtp with a token from mailtoken.\n' \
            "$USER_LOGIN" "$marker" | msmtp -C "$conf" -a "$account" bob@mail.test \
            || { cat "$S/msmtp.log" 2>/dev/null; fail "msmtp ($account) failed"; }
        local i found=
        for ((i = 0; i < 50; i++)); do
            found=$(grep -l -- "Subject: $marker" "$W"/sink/*.eml 2>/dev/null | head -n 1 || true)
            [ -n "$found" ] && break
            sleep 0.1
        done
        [ -n "$found" ] || fail "the SMTP sink did not receive the message sent through $account"
        assert_file_has "$found" "^X-Envelope-To: <bob@mail.test>" "the relayed envelope"
        note "$account: delivered to the sink as $(basename "$found")"
    done
    # The cached token served every call: the file was never rewritten.
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$(node "$HERE/json.mjs" get "$S/login.json" access_token)" "the file's token"
}

scenario_10() {
    new_identity
    local file=$S/token token
    obtain_login "$S/login.json"
    write_tokenfile "$S/login.json" "$file" '"expired":true'
    # mailtoken refreshes and writes the file itself (in-process age); the age CLI must open it,
    # skipping the stanza of mailtoken's own beside the X25519 one (src/store/encryption/self_stanza.rs).
    mt refresh "$file"
    expect_rc refresh 0
    token=$(token_from refresh)
    head -c 400 "$file" | grep -aq -- '^-> mailtoken-self ' || fail "no mailtoken-self stanza in the header"
    head -c 400 "$file" | grep -aq -- '^-> X25519 ' || fail "no X25519 stanza in the header"
    echo "\$ age -d -i $IDENTITY $file"
    check_tokenfile "$file" "$token" localhostauthcode "$USER_LOGIN"
    assert_ne "$token" "$(node "$HERE/json.mjs" get "$S/login.json" access_token)" "the refreshed token"
    assert_eq "$(field "$file" encryption.kind)" age "encryption recorded in the file"
    assert_eq "$(field "$file" encryption.recipients)" "[\"$RECIPIENT\"]" "recipients recorded in the file"
    # And the file written by age itself (the encrypted-to-a-recipient form) round-trips.
    age -d -i "$IDENTITY" "$file" | age -r "$RECIPIENT" -o "$S/again" && chmod 600 "$S/again"
    mt again "$S/again"
    expect_rc again 0
    assert_eq "$(token_from again)" "$token" "the token read back from a re-encrypted file"
}

scenario_11() {
    local file=$S/mutt-token token expected
    mkdir -p "$W/gnupg-homes"
    ln -s "$GNUPGHOME" "$W/gnupg-homes/s11"
    gpg --batch --quiet --passphrase '' --quick-gen-key "E2E Throwaway <e2e@mail.test>" future-default default never 2>"$S/gpg.log" \
        || { cat "$S/gpg.log"; fail "gpg could not make a throwaway key"; }
    obtain_login "$S/login.json"
    token=$(node "$HERE/json.mjs" get "$S/login.json" access_token)
    # Exactly what mutt_oauth2.py writes: json.dumps of its dictionary through
    # "gpg --encrypt --default-recipient-self", in place, mode 0600.
    node "$HERE/json.mjs" muttfile "$S/login.json" "{\"email\":\"$USER_LOGIN\",\"registration\":\"google\",\"authflow\":\"authcode\",\"client_id\":\"$E2E_CLIENT_ID\"}" \
        >"$S/mutt.json"
    (umask 077 && gpg --batch --quiet --encrypt --default-recipient-self <"$S/mutt.json" >"$file")
    chmod 600 "$file"
    cp -p "$file" "$S/mutt-token.before"
    # As mutt's imap_oauth_refresh_command calls it, with only the script's name changed.
    mt plain "$file"
    expect_rc plain 0
    assert_eq "$(token_from plain)" "$token" "token from the mutt_oauth2.py file"
    mt pipe "$file" --decryption-pipe "gpg --decrypt"
    expect_rc pipe 0
    assert_eq "$(token_from pipe)" "$token" "token with mutt_oauth2.py's --decryption-pipe"
    # --format sasl: byte-identical to mutt_oauth2.py's (google: OAUTHBEARER to imap.gmail.com:993).
    mt sasl "$file" --format sasl
    expect_rc sasl 0
    expected=$(sasl_oauthbearer "$USER_LOGIN" "$token" imap.gmail.com 993)
    assert_eq "$(cat "$S/sasl.out")" "$expected" "--format sasl"
    mt status "$file" --status
    expect_rc status 0
    assert_file_has "$S/status.out" "mutt_oauth2" "--status names the format"
    assert_file_lacks "$S/status.out" "$token" "--status (no secrets)"
    # The token opens the mailbox, and the file was left exactly as it was (no refresh was due).
    assert_opens_mailbox "$token" "$USER_LOGIN"
    cmp -s "$file" "$S/mutt-token.before" || fail "the mutt_oauth2.py file was rewritten without a refresh"
    assert_mode_600 "$file"
    gpg --batch --quiet --decrypt "$file" 2>/dev/null | cmp -s - "$S/mutt.json" || fail "the file no longer decrypts to what was written"
}

# --- helpers of the mail-client scenarios (12-17, 27): the blocks of --print-config ------------

# client_tokenfile FILE MODE [EXTRA]: a login of $USER_LOGIN whose servers are named localhost
# (the clients check the certificate against the name) on Dovecot's ports: MODE gmail is IMAP
# with TLS and SMTP with STARTTLS (as Gmail), tls both with TLS, starttls both with STARTTLS.
client_tokenfile() {
    local file=$1 mode=$2 extra=${3:-} imap smtp
    case $mode in
        gmail) imap=imaps://localhost:$PORT_IMAPS smtp=smtp://localhost:$PORT_SUBMISSION ;;
        tls) imap=imaps://localhost:$PORT_IMAPS smtp=smtps://localhost:$PORT_SUBMISSIONS ;;
        starttls) imap=imap://localhost:$PORT_IMAP smtp=smtp://localhost:$PORT_SUBMISSION ;;
    esac
    obtain_login "$file.login.json"
    write_tokenfile "$file.login.json" "$file" \
        "\"endpoints\":{\"imap\":\"$imap\",\"smtp\":\"$smtp\"}${extra:+,$extra}"
}

# print_config CLIENT TOKENFILE OUT: `mailtoken --print-config` into an empty configuration file,
# as a user appends it; its stderr (what the client lacks here) must be empty on this machine.
print_config() {
    echo "\$ mailtoken --print-config $1 $2 > $3"
    mkdir -p "$(dirname "$3")"
    (umask 077 && mailtoken --print-config "$1" "$2" >"$3" 2>"$3.err") \
        || { cat "$3.err"; fail "--print-config $1 failed"; }
    sed 's/^/   config: /' "$3"
    [ ! -s "$3.err" ] || { sed 's/^/   stderr: /' "$3.err"; fail "--print-config $1 says the client lacks something here"; }
}

# --- more helpers of the mail-client scenarios ---------------------------------------------------

# Waits up to 5 s for the SMTP sink to hold a message whose subject is MARKER; prints its path.
sink_message() { # MARKER
    local i found=
    for ((i = 0; i < 50; i++)); do
        found=$(grep -l -- "^Subject: $1" "$W"/sink/*.eml 2>/dev/null | head -n 1 || true)
        [ -n "$found" ] && break
        sleep 0.1
    done
    [ -n "$found" ] || fail "the SMTP sink did not receive the message '$1'"
    assert_file_has "$found" "^X-Envelope-To: <bob@mail.test>" "the relayed envelope"
    printf '%s' "$found"
}

# The seeded message in a local Maildir folder, or a failure.
assert_synced() { # MAILDIR-FOLDER WHAT
    local got
    got=$(grep -l '^Subject: e2e seeded message' "$1"/new/* "$1"/cur/* 2>/dev/null | head -n 1 || true)
    [ -n "$got" ] || { find "$1" -type f | sed 's/^/   > /'; fail "$2: the seeded message is not in $1"; }
    note "$2: the seeded message arrived as ${got#"$S"/}"
}

# refresh_by_curl REFRESH-TOKEN OUT: one refresh grant at the provider, as any client would do it.
refresh_by_curl() {
    curl -fsS --cacert "$CA" --data-urlencode "grant_type=refresh_token" \
        --data-urlencode "refresh_token=$1" --data-urlencode "client_id=$E2E_CLIENT_ID" \
        "$ISSUER/token" >"$2" || fail "refreshing by hand failed"
    node -e 'const fs=require("fs");const t=JSON.parse(fs.readFileSync(process.argv[1]));t.requested_at=new Date().toISOString();fs.writeFileSync(process.argv[1],JSON.stringify(t))' "$2"
}

# Terminal programs run under a private tmux server each (socket in $S). tmux servers leave the
# scenario's process group, so each one's PID is recorded in $W/pids for the harness's cleanup.
tui_start() { # NAME COMMAND...
    local name=$1
    shift
    tmux -S "$S/tmux-$name.sock" -f /dev/null new-session -d -x 132 -y 40 "$@"
    tmux -S "$S/tmux-$name.sock" display-message -p '#{pid}' >"$W/pids/tmux.$(basename "$S").$name"
}
# Waits up to SECONDS for NAME's screen to show REGEX; the last screen is kept in $S/NAME.screen.
tui_wait() { # NAME REGEX SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        tmux -S "$S/tmux-$1.sock" capture-pane -p -t 0 >"$S/$1.screen" 2>/dev/null || true
        grep -Eq -- "$2" "$S/$1.screen" && return 0
        sleep 0.1
    done
    return 1
}
tui_stop() { # NAME
    local pidfile pid i
    pidfile=$W/pids/tmux.$(basename "$S").$1
    pid=$(cat "$pidfile" 2>/dev/null || true)
    tmux -S "$S/tmux-$1.sock" kill-server 2>/dev/null || true
    # The server ends on its own once asked; wait for that, so nothing outlives the scenario.
    for ((i = 0; i < 50; i++)); do
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    rm -f "$pidfile"
}
# The screen, then the failure; the server is stopped first.
tui_fail() { # NAME WHAT
    sed 's/^/   screen: /' "$S/$1.screen"
    tui_stop "$1"
    fail "$2"
}

# --- the mail-client recipes --------------------------------------------------------------------

scenario_12() {
    new_identity
    local file mode conf
    # The block of --print-config, with TLS and with STARTTLS. The first file's token has expired,
    # so the sync also proves the refresh through PassCmd.
    for mode in tls starttls; do
        file=$S/$mode
        conf=$S/mbsyncrc-$mode
        if [ $mode = tls ]; then client_tokenfile "$file" $mode '"expired":true'; else client_tokenfile "$file" $mode; fi
        print_config mbsync "$file" "$conf"
        mkdir -p "$HOME/Mail/$mode"   # as the block's comment says
        assert_file_has "$conf" "^SSLType $([ $mode = tls ] && echo IMAPS || echo STARTTLS)\$" "the TLS mode of the block"
        reset_counts
        dovecot_mark
        echo "\$ mbsync -c $conf $mode"
        mbsync -V -c "$conf" "$mode" >"$S/mbsync-$mode.log" 2>&1 || { sed 's/^/   mbsync: /' "$S/mbsync-$mode.log"; fail "mbsync ($mode) failed"; }
        sed 's/^/   mbsync: /' "$S/mbsync-$mode.log"
        assert_file_has "$S/mbsync-$mode.log" 'Authenticating with SASL mechanism XOAUTH2' "mbsync's SASL mechanism"
        assert_synced "$HOME/Mail/$mode/INBOX" "mbsync ($mode)"
        assert_eq "$(logins_since_mark imap XOAUTH2 "$USER_LOGIN")" 1 "Dovecot IMAP logins with XOAUTH2 ($mode)"
    done
    assert_eq "$(count refresh_token ok)" 0 "refreshes of the second (live) file"
    decrypt "$S/tls"
    assert_ne "$(field "$S/tls" access_token)" "$(node "$HERE/json.mjs" get "$S/tls.login.json" access_token)" "the first file's token after the refresh"
}

# The recipe's settings, for mutt and neomutt alike (the same variable names).
mutt_harness() { # FILE: lines only the harness needs, after the block: no Sent copy, no cache
    printf '%s\n' 'set record = ""' 'set header_cache = ""' 'set quit = yes' "set from = \"$USER_LOGIN\"" >>"$1"
}

scenario_13() {
    new_identity
    local file=$S/token marker client conf method
    # IMAP with TLS and SMTP with STARTTLS, as Gmail; XOAUTH2 first, then OAUTHBEARER (--set).
    client_tokenfile "$file" gmail
    for method in XOAUTH2 OAUTHBEARER; do
        if [ $method = OAUTHBEARER ]; then
            mt set --set "$file" --sasl-method OAUTHBEARER
            expect_rc set 0
            assert_file_has "$S/set.err" "SASL method OAUTHBEARER \\(was XOAUTH2\\)" "what --set says"
        fi
        for client in neomutt mutt; do
            conf=$S/$client-$method.rc
            print_config "$client" "$file" "$conf"
            assert_file_has "$conf" "^set imap_authenticators = \"${method,,}\"" "the block's mechanism"
            mutt_harness "$conf"
            # Reading: under tmux, the INBOX on screen.
            dovecot_mark
            echo "\$ $client -n -F $conf   (under tmux)"
            tui_start "$client" "$client" -n -F "$conf"
            tui_wait "$client" 'e2e seeded message' 20 || tui_fail "$client" "$client did not show the seeded message"
            sed 's/^/   screen: /' "$S/$client.screen" | grep -v '^   screen: $'
            tui_stop "$client"
            assert_eq "$(logins_since_mark imap "$method" "$USER_LOGIN")" 1 "Dovecot IMAP logins with $method ($client)"
            # Sending, in batch mode, through submission with STARTTLS.
            marker="e2e-$client-$method-$RANDOM$RANDOM"
            dovecot_mark
            echo "\$ $client -n -F $conf -s $marker bob@mail.test"
            echo "Sent by $client with a token from mailtoken." \
                | "$client" -n -F "$conf" -s "$marker" bob@mail.test >"$S/$client.log" 2>&1 \
                || { sed "s/^/   $client: /" "$S/$client.log"; fail "$client could not send"; }
            note "$client ($method): delivered to the sink as $(basename "$(sink_message "$marker")")"
            assert_eq "$(logins_since_mark submission "$method" "$USER_LOGIN")" 1 "Dovecot submission logins with $method ($client)"
        done
    done
}

scenario_14() {
    new_identity
    local file=$S/token conf=$HOME/.offlineimaprc
    client_tokenfile "$file" tls '"expired":true'
    print_config offlineimap "$file" "$conf"
    reset_counts
    dovecot_mark
    echo "\$ offlineimap -o -u basic"
    timeout 60 offlineimap -o -u basic >"$S/offlineimap.log" 2>&1 \
        || { sed 's/^/   offlineimap: /' "$S/offlineimap.log"; fail "offlineimap failed"; }
    sed 's/^/   offlineimap: /' "$S/offlineimap.log"
    assert_file_lacks "$S/offlineimap.log" 'ERROR' "offlineimap's log"
    assert_synced "$HOME/Mail/token/INBOX" offlineimap
    assert_eq "$(logins_since_mark imap XOAUTH2 "$USER_LOGIN")" 1 "Dovecot IMAP logins with XOAUTH2"
    assert_eq "$(count refresh_token ok)" 1 "refreshes through oauth2_access_token_eval"
    # A STARTTLS server gets no block: offlineimap would not protect the token there.
    client_tokenfile "$S/starttls" starttls
    mt refused --print-config offlineimap "$S/starttls"
    expect_rc refused 78
    assert_file_has "$S/refused.err" "--imap-endpoint imaps://localhost:993" "the TLS port named instead"
}

scenario_15() {
    new_identity
    local check=$ROOT/contrib/mailtoken-check healthy=$S/healthy revoked=$S/revoked unreachable=$S/unreachable
    local first_refresh
    [ -x "$check" ] || fail "no executable $check"
    # healthy: a live login. revoked: a login whose refresh token was rotated once (the file has
    # the current one and a live access token), then killed by reuse detection: the old refresh
    # token sent again revokes the whole grant. unreachable: its provider does not answer.
    obtain_login "$S/login-healthy.json"
    write_tokenfile "$S/login-healthy.json" "$healthy"
    obtain_login "$S/login-revoked.json"
    first_refresh=$(node "$HERE/json.mjs" get "$S/login-revoked.json" refresh_token)
    refresh_by_curl "$first_refresh" "$S/login-revoked-2.json"
    write_tokenfile "$S/login-revoked-2.json" "$revoked"
    obtain_login "$S/login-unreachable.json"
    ISSUER=https://127.0.0.1:$PORT_SPY_POP3 write_tokenfile "$S/login-unreachable.json" "$unreachable"
    # All is well: no output at all, so cron sends no mail.
    reset_counts
    echo "\$ mailtoken-check $healthy $revoked $unreachable"
    set +e
    "$check" "$healthy" "$revoked" "$unreachable" >"$S/check1.out" 2>&1
    local rc=$?
    set -e
    sed 's/^/   check: /' "$S/check1.out"
    assert_eq "$rc" 0 "the check's exit status while every login lives"
    assert_eq "$(wc -c <"$S/check1.out" | tr -d ' ')" 0 "the check's output while every login lives"
    assert_eq "$(count refresh_token ok)" 2 "refreshes by the check (it asked the provider)"
    # The unreachable provider meant "try later" (75), which the check keeps quiet about.
    mt unreachable --force-refresh "$unreachable"
    expect_rc unreachable 75
    # The login ends: the old refresh token is replayed; the provider revokes the grant.
    local reuse
    reuse=$(curl -sS --cacert "$CA" -o "$S/reuse.json" -w '%{http_code}' --data-urlencode "grant_type=refresh_token" \
        --data-urlencode "refresh_token=$first_refresh" --data-urlencode "client_id=$E2E_CLIENT_ID" "$ISSUER/token")
    assert_eq "$reuse $(node "$HERE/json.mjs" get "$S/reuse.json" error)" "400 invalid_grant" "replaying the old refresh token"
    # A mail client would not notice yet: the cached access token still prints.
    mt cached "$revoked"
    expect_rc cached 0
    echo "\$ mailtoken-check $healthy $revoked $unreachable"
    set +e
    "$check" "$healthy" "$revoked" "$unreachable" >"$S/check2.out" 2>&1
    rc=$?
    set -e
    sed 's/^/   check: /' "$S/check2.out"
    assert_eq "$rc" 1 "the check's exit status with a revoked login"
    assert_file_has "$S/check2.out" "login for $revoked has ended" "the alert names the revoked account"
    assert_file_has "$S/check2.out" "mailtoken --authorize $revoked" "the alert says what to run"
    assert_file_lacks "$S/check2.out" "$healthy|$unreachable" "the alert (only the revoked account)"
    # The man page's one-line form, for a crontab.
    # shellcheck disable=SC2016 # expanded by sh -c
    local account oneliner='mailtoken --force-refresh "$1" >/dev/null 2>&1; [ $? -ne 77 ] || echo "mailtoken: sign in again: mailtoken --authorize $1"'
    for account in "$healthy" "$revoked" "$unreachable"; do
        sh -c "$oneliner" sh "$account" >"$S/oneliner.out" 2>&1 || true
        sed 's/^/   one-liner: /' "$S/oneliner.out"
        if [ "$account" = "$revoked" ]; then
            assert_file_has "$S/oneliner.out" "mailtoken --authorize $revoked" "the one-liner's alert"
        else
            assert_eq "$(wc -c <"$S/oneliner.out" | tr -d ' ')" 0 "the one-liner's output for $(basename "$account")"
        fi
    done
}

scenario_16() {
    local home=$S/exim-home spool=$S/exim conf=$S/exim.conf file log marker found
    # The private exim of lib.sh (prepare_private_exim), never the system's MTA.
    [ -x "${E2E_EXIM:-}" ] || fail "no private exim at ${E2E_EXIM:-(unset)}"
    # exim runs ${run} in its delivery process as its own user (Debian-exim), so that user owns the
    # login, at the default places under a home of its own ($home stands for /var/spool/exim4):
    # the token file "smarthost" and the age identity.
    mkdir -p "$home" "$spool"
    XDG_CONFIG_HOME=$home/.config new_identity
    file=$home/.local/share/mailtoken/smarthost
    log=$home/mailtoken.log
    obtain_login "$S/login.json"
    write_tokenfile "$S/login.json" "$file" '"expired":true'
    chown -R Debian-exim:Debian-exim "$home" "$spool"
    # A private configuration: its own spool and logs; no daemon, no listener; one smarthost,
    # Dovecot's submission port with STARTTLS. exim empties its environment, so the command sets
    # HOME itself. ${run} sends the command's stderr to the same pipe as its stdout, so mailtoken's
    # messages go to a log file instead; a failure forces the expansion to fail, which abandons
    # the authentication and defers the message.
    cat >"$conf" <<CONF
primary_hostname = client.mail.test
qualify_domain = mail.test
spool_directory = $spool
log_file_path = $spool/%slog
exim_user = Debian-exim
exim_group = Debian-exim
# The private binary, should exim start itself again (it knows only its packaged path).
exim_path = $E2E_EXIM
disable_ipv6 = true
keep_environment =
# Only for the test: mailtoken must trust the test's CA.
add_environment = <; SSL_CERT_FILE=$CA

begin routers
smarthost:
  driver = manualroute
  domains = *
  transport = smarthost
  route_list = * localhost byname
  self = send
  no_more

begin transports
smarthost:
  driver = smtp
  port = $PORT_SUBMISSION
  allow_localhost
  hosts_require_tls = *
  hosts_require_auth = *
  tls_verify_certificates = $CA

begin retry
* * F,2h,15m; G,16h,1h,1.5; F,4d,6h

begin authenticators
xoauth2:
  driver = plaintext
  public_name = XOAUTH2
  client_send = <; \${base64d:\${run{/bin/sh -c "HOME=$home exec \\
    $W/bin/mailtoken --format sasl --sasl-method XOAUTH2 smarthost \\
    2>>$log"}{\$value}fail}}
CONF
    marker="e2e-exim-$RANDOM$RANDOM"
    reset_counts
    dovecot_mark
    exim_send "$conf" "$marker" || fail "exim failed"
    sed 's/^/   mainlog: /' "$spool/mainlog"
    assert_file_has "$spool/mainlog" "=> bob@mail.test R=smarthost T=smarthost .* A=xoauth2" "exim's delivery line"
    found=$(sink_message "$marker")
    note "delivered to the sink as $(basename "$found")"
    [ ! -s "$log" ] || fail "mailtoken wrote to its log although all went well: $(cat "$log")"
    assert_eq "$(logins_since_mark submission XOAUTH2 "$USER_LOGIN")" 1 "Dovecot submission logins with XOAUTH2"
    assert_eq "$(count refresh_token ok)" 1 "refreshes through \${run}"
    # mailtoken ran as Debian-exim: the refreshed file and its lock file are that user's.
    assert_eq "$(stat -c %U "$file") $(stat -c %U "$file.lock")" "Debian-exim Debian-exim" "owners of the token file and its lock"
    assert_mode_600 "$file"
    # A login that ended: mailtoken exits 77, its message lands in the log, and the message stays
    # queued (deferred, not bounced) instead of going out without authentication.
    printf '{"access_token":"x","refresh_token":"not-a-live-refresh-token","expires_in":600,"scope":"mail","requested_at":"%s"}' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$S/dead.json"
    write_tokenfile "$S/dead.json" "$file" '"expired":true'
    chown Debian-exim:Debian-exim "$file"
    marker="e2e-exim-dead-$RANDOM$RANDOM"
    exim_send "$conf" "$marker" || true
    sed 's/^/   mainlog: /' "$spool/mainlog" | tail -n 4
    sed 's/^/   mailtoken.log: /' "$log"
    assert_file_has "$log" "--authorize" "mailtoken's message in its log"
    assert_file_has "$spool/mainlog" "== bob@mail.test R=smarthost T=smarthost defer" "exim deferred the message"
    assert_eq "$("$E2E_EXIM" -C "$conf" -bpc 2>/dev/null)" 1 "messages left in exim's queue"
    ! grep -q -- "^Subject: $marker" "$W"/sink/*.eml || fail "the message went out without a login"
}

exim_send() { # CONF MARKER
    echo "\$ exim -C $1 -odf -oi -f $USER_LOGIN bob@mail.test   (Subject: $2)"
    set +e
    printf 'From: %s\nTo: bob@mail.test\nSubject: %s\n\nSent by exim with a token from mailtoken.\n' "$USER_LOGIN" "$2" \
        | "$E2E_EXIM" -C "$1" -odf -oi -f "$USER_LOGIN" bob@mail.test >"$S/exim.out" 2>&1
    local rc=$?
    set -e
    sed 's/^/   exim: /' "$S/exim.out"
    return $rc
}

scenario_17() {
    new_identity
    local file=$S/token conf=$XDG_CONFIG_HOME/aerc marker
    client_tokenfile "$file" tls
    print_config aerc "$file" "$conf/accounts.conf"
    # Only for the test: an editor that leaves the body as given, straight to the review screen.
    printf '[compose]\neditor = true\n' >"$conf/aerc.conf"
    dovecot_mark
    echo "\$ aerc   (under tmux; Go's TLS honours SSL_CERT_FILE)"
    tui_start aerc aerc
    tui_wait aerc 'e2e seeded message' 20 || tui_fail aerc "aerc did not show the seeded message"
    sed 's/^/   screen: /' "$S/aerc.screen" | grep -v '^   screen: $'
    assert_eq "$(logins_since_mark imap XOAUTH2 "$USER_LOGIN")" 1 "Dovecot IMAP logins with XOAUTH2 (aerc)"
    # Sending: compose, review, y.
    marker="e2e-aerc-$RANDOM$RANDOM"
    dovecot_mark
    tmux -S "$S/tmux-aerc.sock" send-keys -t 0 ":compose -H \"To: bob@mail.test\" -H \"Subject: $marker\" Sent-by-aerc" Enter
    tui_wait aerc 'Send this email' 10 || tui_fail aerc "aerc showed no review screen"
    tmux -S "$S/tmux-aerc.sock" send-keys -t 0 y
    note "delivered to the sink as $(basename "$(sink_message "$marker")")"
    tui_wait aerc 'Message sent' 5 || tui_fail aerc "aerc did not say the message was sent"
    tui_stop aerc
    assert_eq "$(logins_since_mark submission XOAUTH2 "$USER_LOGIN")" 1 "Dovecot submission logins with XOAUTH2 (aerc)"
}

scenario_27() {
    new_identity
    local mode file conf marker
    # msmtp from its block, with STARTTLS and with TLS; XOAUTH2.
    for mode in starttls tls; do
        file=$S/$mode
        client_tokenfile "$file" $mode
        conf=$S/msmtprc-$mode
        print_config msmtp "$file" "$conf"
        marker="e2e-msmtp-block-$mode-$RANDOM$RANDOM"
        dovecot_mark
        echo "\$ msmtp -C $conf -a $mode bob@mail.test"
        printf 'From: %s\nTo: bob@mail.test\nSubject: %s\n\nSent by msmtp from its --print-config block.\n' \
            "$USER_LOGIN" "$marker" | msmtp -C "$conf" -a "$mode" bob@mail.test \
            || fail "msmtp ($mode) failed"
        note "msmtp ($mode): delivered to the sink as $(basename "$(sink_message "$marker")")"
        assert_eq "$(logins_since_mark submission XOAUTH2 "$USER_LOGIN")" 1 "Dovecot submission logins ($mode)"
    done
    # getmail (getmail6) from its block: the INBOX into a Maildir.
    command -v getmail >/dev/null || fail "getmail is not installed"
    file=$S/tls
    conf=$S/getmail/getmailrc
    print_config getmail "$file" "$conf"
    mkdir -p "$HOME/Mail/tls/cur" "$HOME/Mail/tls/new" "$HOME/Mail/tls/tmp"
    # Only for the test, which runs as root: getmail delivers as no root, so as nobody.
    echo "user = nobody" >>"$conf"
    chown -R nobody "$HOME/Mail/tls"
    dovecot_mark
    echo "\$ getmail --getmaildir $S/getmail --rcfile getmailrc"
    timeout 60 getmail --getmaildir "$S/getmail" --rcfile getmailrc >"$S/getmail.log" 2>&1 \
        || { sed 's/^/   getmail: /' "$S/getmail.log"; fail "getmail failed"; }
    sed 's/^/   getmail: /' "$S/getmail.log"
    assert_synced "$HOME/Mail/tls" getmail
    assert_eq "$(logins_since_mark imap XOAUTH2 "$USER_LOGIN")" 1 "Dovecot IMAP logins with XOAUTH2 (getmail)"
}

scenario_18() {
    # No request may leave the machine for Google: the device flow is refused before any, and the
    # browser flow only prints its URL (nothing comes back within a second).
    mt device --authorize --provider google --authflow devicecode --email you@gmail.com \
        --client-id 1234-abc.apps.googleusercontent.com --client-secret x "$S/gmail"
    expect_rc device 64
    assert_file_has "$S/device.err" "Google's device flow does not allow the Gmail scope" "the refusal"
    assert_file_has "$S/device.err" 'hint: use --authflow localhostauthcode' "the flows that work"
    [ ! -e "$S/gmail" ] || fail "a refused sign-in wrote a file"
    mt browser --authorize --provider google --authflow localhostauthcode --no-browser \
        --auth-timeout 1 --email you@gmail.com --client-id 1234-abc.apps.googleusercontent.com \
        --client-secret x "$S/gmail"
    expect_rc browser 75
    assert_file_has "$S/browser.err" '^  https://accounts\.google\.com/o/oauth2/auth\?' "the printed URL"
    assert_file_has "$S/browser.err" '[?&]access_type=offline(&|$)' "offline access asked for"
    assert_file_has "$S/browser.err" '[?&]redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A[0-9]+%2F(&|$)' "the loopback redirect"
    assert_file_lacks "$S/browser.err" '[?&]prompt=' "no forced consent on a first sign-in"
    assert_file_has "$S/browser.err" 'check that the client is of type Desktop app' "what to look for on the provider's page"
    assert_file_has "$S/browser.err" "run 'mailtoken --authorize --provider google .*--no-browser" "the command again, with every flag"
    [ ! -e "$S/gmail" ] || fail "an unfinished sign-in wrote a file"
}

# --- the account lifecycle (issue #12) -----------------------------------------------------------

# lifecycle_accounts: three accounts in the accounts directory: "live" (a fresh token), "stale"
# (its access token expired) and "idle" (not refreshed for 8 days, as written by hand).
lifecycle_accounts() {
    new_identity
    ACCOUNTS=$XDG_DATA_HOME/mailtoken
    obtain_login "$S/login-live.json"
    write_tokenfile "$S/login-live.json" "$ACCOUNTS/live" '"revocation":true'
    obtain_login "$S/login-stale.json"
    write_tokenfile "$S/login-stale.json" "$ACCOUNTS/stale" '"expired":true,"revocation":true'
    obtain_login "$S/login-idle.json"
    write_tokenfile "$S/login-idle.json" "$ACCOUNTS/idle" '"revocation":true'
}

scenario_19() {
    lifecycle_accounts
    # A lock file and a kept unreadable copy are not accounts.
    : >"$ACCOUNTS/live.lock"
    cp "$ACCOUNTS/live" "$ACCOUNTS/live.unreadable-20261129T000000Z"
    reset_counts
    mt list --list
    expect_rc list 0
    sed 's/^/   stdout: /' "$S/list.out"
    assert_eq "$(wc -l <"$S/list.out" | tr -d ' ')" 4 "lines of --list (a header and three accounts)"
    assert_file_has "$S/list.out" '^ACCOUNT +E-MAIL +PROVIDER +STATE$' "the header"
    assert_file_has "$S/list.out" "^idle +$USER_LOGIN +e2e +ok$" "the idle account"
    assert_file_has "$S/list.out" "^live +$USER_LOGIN +e2e +ok$" "the live account"
    assert_file_has "$S/list.out" "^stale +$USER_LOGIN +e2e +expired \(refreshes on next use\)$" "the expired account"
    # Aligned: the e-mail column starts at the same place on every line.
    assert_eq "$(awk '{ print index($0, $2) }' "$S/list.out" | sort -u | wc -l | tr -d ' ')" 1 "columns aligned"
    mt json --list --json
    expect_rc json 0
    cp "$S/json.out" "$S/list.json"
    assert_eq "$(node "$HERE/json.mjs" get "$S/list.json" 0.name)" idle "first account"
    assert_eq "$(node "$HERE/json.mjs" get "$S/list.json" 2.state)" expired "state of stale"
    assert_eq "$(node "$HERE/json.mjs" get "$S/list.json" 1.refresh_token)" true "refresh token present"
    assert_eq "$(node "$HERE/json.mjs" get "$S/list.json" 1.encryption)" age "encryption"
    assert_eq "$(node "$HERE/json.mjs" get "$S/list.json" 1.email)" "$USER_LOGIN" "e-mail"
    mt status --status --json live
    expect_rc status 0
    cp "$S/status.out" "$S/status.json"
    assert_eq "$(node "$HERE/json.mjs" get "$S/status.json" path)" "$ACCOUNTS/live" "path in --status --json"
    # No secret anywhere, and no request to the provider.
    local secret
    for secret in "$(node "$HERE/json.mjs" get "$S/login-live.json" access_token)" \
        "$(node "$HERE/json.mjs" get "$S/login-live.json" refresh_token)"; do
        ! grep -qF -- "$secret" "$S/list.out" "$S/json.out" "$S/status.out" || fail "a token in the output"
    done
    assert_eq "$(counts_json)" '{}' "token requests made by --list and --json"
}

scenario_20() {
    lifecycle_accounts
    # "idle" was last refreshed 8 days ago, as far as the file says.
    decrypt "$ACCOUNTS/idle"
    node -e 'const fs=require("fs");const f=JSON.parse(fs.readFileSync(process.argv[1]));f.access_token_obtained=new Date(Date.now()-8*86400e3).toISOString();process.stdout.write(JSON.stringify(f))' \
        "$ACCOUNTS/idle.json" | (umask 077 && age -r "$RECIPIENT" -o "$ACCOUNTS/idle")
    rm -f "$ACCOUNTS/idle.json"
    reset_counts
    mt green --check
    expect_rc green 0
    assert_eq "$(wc -c <"$S/green.out" | tr -d ' ') $(wc -c <"$S/green.err" | tr -d ' ')" "0 0" "output of a green --check"
    assert_eq "$(count refresh_token ok)" 2 "refreshes by --check (the expired and the idle account)"
    # The provider revokes one grant (RFC 7009, with the refresh token the file now holds).
    decrypt "$ACCOUNTS/stale"
    local refresh
    refresh=$(field "$ACCOUNTS/stale" refresh_token)
    rm -f "$ACCOUNTS/stale.json"
    curl -fsS --cacert "$CA" --data-urlencode "token=$refresh" --data-urlencode "token_type_hint=refresh_token" \
        --data-urlencode "client_id=$E2E_CLIENT_ID" "$ISSUER/token/revocation" >/dev/null || fail "revoking at the provider"
    mt red --check --keepalive 0
    expect_rc red 77
    assert_eq "$(wc -c <"$S/red.out" | tr -d ' ')" 0 "stdout of --check"
    assert_eq "$(wc -l <"$S/red.err" | tr -d ' ')" 1 "lines of --check on stderr"
    assert_file_has "$S/red.err" "^mailtoken: stale: .*run 'mailtoken --authorize stale'" "the line naming the account and the fix"
    assert_file_lacks "$S/red.err" "live|idle" "the other accounts"
}

scenario_21() {
    new_identity
    local file=$XDG_DATA_HOME/mailtoken/dead record=$S/notified
    export XDG_STATE_HOME=$S/state
    mkdir -p "$XDG_CONFIG_HOME/mailtoken"
    printf '#!/bin/sh\nprintf "%%s|%%s|%%s|pid=%%s\\n" "$MAILTOKEN_ACCOUNT" "$MAILTOKEN_EMAIL" "$MAILTOKEN_AUTHORIZE_COMMAND" "$$" >>%q\n' \
        "$record" >"$XDG_CONFIG_HOME/mailtoken/notify"
    chmod 755 "$XDG_CONFIG_HOME/mailtoken/notify"
    printf '{"access_token":"x","refresh_token":"not-a-live-refresh-token","expires_in":600,"scope":"mail","requested_at":"%s"}' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$S/dead.json"
    write_tokenfile "$S/dead.json" "$file" '"expired":true'
    # Two calls of a mail client (no terminal), one after the other: both fail, one notification.
    # --verbose: each says whether it started the hook; the second finds it ran within the hour.
    mt first --verbose dead
    expect_rc first 77
    mt second --verbose dead
    expect_rc second 77
    assert_file_has "$S/second.err" "the notify hook already ran for this account within the hour" "the second call"
    local started
    started=$(hooks_started first second)
    assert_eq "$(grep -c . <<<"$started")" 1 "notify hooks started by two failing calls"
    wait_for_hooks "$record" "$started"
    sed 's/^/   hook: /' "$record"
    assert_eq "$(wc -l <"$record" | tr -d ' ')" 1 "notifications for two failing calls"
    assert_eq "$(cat "$record")" "dead|$USER_LOGIN|mailtoken --authorize dead|pid=$started" "the hook's environment"
    compgen -G "$XDG_STATE_HOME/mailtoken/notified-dead-*" >/dev/null || fail "no state under \$XDG_STATE_HOME/mailtoken"
}

scenario_22() {
    new_identity
    local file=$S/revokable token refresh
    obtain_login "$S/login.json"
    write_tokenfile "$S/login.json" "$file" '"revocation":true'
    mt print "$file"
    expect_rc print 0
    token=$(token_from print)
    refresh=$(node "$HERE/json.mjs" get "$S/login.json" refresh_token)
    assert_active "$token" "$USER_LOGIN"
    : >"$file.lock"
    mt revoke --revoke "$file"
    expect_rc revoke 0
    assert_file_has "$S/revoke.err" "revoked the login at 127\.0\.0\.1:$PORT_PROVIDER" "what --revoke says"
    [ ! -e "$file" ] || fail "the token file is still there"
    [ ! -e "$file.lock" ] || fail "the lock file is still there"
    assert_eq "$(introspect "$token")" "false -" "introspection of the access token after --revoke"
    assert_eq "$(introspect "$refresh" | cut -d' ' -f1)" false "introspection of the refresh token after --revoke"
    # An unreadable file is never deleted.
    printf 'not age' >"$S/broken"
    chmod 600 "$S/broken"
    mt broken --revoke "$S/broken"
    expect_rc broken 65
    [ -e "$S/broken" ] || fail "--revoke deleted a file it could not read"
}

scenario_23() {
    local grant=urn:ietf:params:oauth:grant-type:device_code uri
    authorize_flags
    # The code's own lifetime is the wait: no --auth-timeout.
    local flags=() flag skip=0
    for flag in "${AUTH_FLAGS[@]}"; do
        if [ $skip = 1 ]; then skip=0; continue; fi
        if [ "$flag" = --auth-timeout ]; then skip=1; continue; fi
        flags+=("$flag")
    done
    reset_counts
    echo "\$ script -qfec 'mailtoken --authorize --authflow devicecode ...' (stderr on the pseudo-terminal)"
    set +e
    TERM=xterm LANG=C.UTF-8 script -qfec "$(printf '%q ' mailtoken --authorize --authflow devicecode "${flags[@]}" "$S/token") >$S/auth.out" \
        "$S/terminal.log" </dev/null >/dev/null 2>&1 &
    local pid=$!
    set -e
    wait_for_text "$pid" "$S/terminal.log" "Waiting for the sign-in: [0-9]+:[0-9]{2} left" 20 \
        || gave_up "$pid" auth "no countdown on the terminal"
    uri=$(grep -aEo "https://127\.0\.0\.1:$PORT_PROVIDER/device[^[:space:]\"'<>)]*user_code=[^[:space:]\"'<>)]*" "$S/terminal.log" | head -n 1 | sed 's/[).,;:]*$//')
    [ -n "$uri" ] || gave_up "$pid" auth "no complete verification URI on the terminal"
    # Approve only once mailtoken is polling, as a person on another device would.
    wait_for_polling "$pid" "$grant"
    note "approving at $uri"
    node "$HERE/login.mjs" device "$uri" "$USER_LOGIN" || gave_up "$pid" auth "the approval failed"
    wait_exit "$pid" auth 30 "mailtoken kept polling after the approval"
    sed -n '1,40s/^/   terminal: /p' "$S/terminal.log"
    grep -aqF '█▀▀▀▀▀█' "$S/terminal.log" || fail "no QR code (finder pattern) on the terminal"
    grep -aq "or scan this code with a phone" "$S/terminal.log" || fail "no words for the QR code"
    grep -aEq 'Waiting for the sign-in: (10:00|9:[0-9]{2}) left' "$S/terminal.log" || fail "the wait is not the code's lifetime (600 s)"
    # The countdown line is erased (\r, ESC [2K) before the messages that end the sign-in.
    grep -aq $'\r\e\\[2Kmailtoken: ' "$S/terminal.log" || fail "the countdown line was not erased"
    after_authorize auth "$S/token" devicecode
}

scenario_24() {
    local file=$XDG_DATA_HOME/mailtoken/work record=$S/notified spent json
    export XDG_STATE_HOME=$S/state
    mkdir -p "$XDG_CONFIG_HOME/mailtoken"
    printf '#!/bin/sh\nprintf "%%s|%%s|pid=%%s\\n" "$MAILTOKEN_ACCOUNT" "$MAILTOKEN_REASON" "$$" >>%q\n' \
        "$record" >"$XDG_CONFIG_HOME/mailtoken/notify"
    chmod 755 "$XDG_CONFIG_HOME/mailtoken/notify"
    browser_sign_in auth work
    expect_rc auth 0
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    # One refresh rotates the refresh token; the spent one, replayed, makes the provider revoke the
    # whole grant (reuse detection), while the file's access token still has most of its life.
    decrypt "$file"
    spent=$(field "$file" refresh_token)
    rm -f "$file.json"
    mt rotate --force-refresh work
    expect_rc rotate 0
    local reuse
    reuse=$(curl -sS --cacert "$CA" -o "$S/reuse.json" -w '%{http_code}' --data-urlencode "grant_type=refresh_token" \
        --data-urlencode "refresh_token=$spent" --data-urlencode "client_id=$E2E_CLIENT_ID" "$ISSUER/token")
    assert_eq "$reuse $(node "$HERE/json.mjs" get "$S/reuse.json" error)" "400 invalid_grant" "replaying the spent refresh token"
    # The keep-alive refresh of --check is the first to hear of it: 77, the hook, the fix.
    # Every run that could start the notify hook is --verbose from here on (hooks_started).
    reset_counts
    mt check --check --keepalive 0 --verbose
    expect_rc check 77
    assert_file_has "$S/check.err" "^mailtoken: work: .*invalid_grant.*run 'mailtoken --authorize work'" "the line naming the fix"
    assert_eq "$(count refresh_token invalid_grant)" 1 "refreshes refused"
    # Every surface now says so, and none asks the provider again.
    mt call work --verbose
    expect_rc call 77
    assert_eq "$(wc -c <"$S/call.out" | tr -d ' ')" 0 "the mail client's stdout"
    assert_file_has "$S/call.err" "needs a new sign-in since" "the mail client's call"
    mt status --status work --verbose
    expect_rc status 0
    assert_file_has "$S/status.out" '^state: +needs sign-in since ' "--status"
    assert_file_has "$S/status.out" '^why: .*invalid_grant' "--status gives the provider's reason"
    mt json --status --json work --verbose
    expect_rc json 0
    cp "$S/json.out" "$S/status.json"
    assert_eq "$(node "$HERE/json.mjs" get "$S/status.json" state)" needs-sign-in "--json"
    mt list --list --verbose
    expect_rc list 0
    assert_file_has "$S/list.out" "^work +$USER_LOGIN +e2e +needs sign-in since " "--list"
    mt again --check --verbose
    expect_rc again 77
    mt test --test work --verbose
    expect_rc test 77
    assert_file_lacks "$S/test.err" "IMAP|POP|SMTP" "--test logging in"
    assert_eq "$(count refresh_token invalid_grant) $(count refresh_token ok)" "1 0" "token requests after the verdict"
    # One hook for all of that (at most once an hour), and it has written.
    local started
    started=$(hooks_started check call status json list again test)
    assert_eq "$(grep -c . <<<"$started")" 1 "notify hooks started"
    wait_for_hooks "$record" "$started"
    sed 's/^/   hook: /' "$record"
    assert_eq "$(wc -l <"$record" | tr -d ' ')" 1 "notifications"
    assert_file_has "$record" "^work\|.*invalid_grant.*\|pid=$started\$" "the hook's account and reason"
    # A new sign-in brings everything back.
    browser_sign_in again-auth work
    expect_rc again-auth 0
    mt after work
    expect_rc after 0
    assert_opens_mailbox "$(token_from after)" "$USER_LOGIN"
    mt after-json --status --json work
    cp "$S/after-json.out" "$S/after.json"
    assert_eq "$(node "$HERE/json.mjs" get "$S/after.json" state)" ok "--json after the sign-in"
    mt after-check --check
    expect_rc after-check 0
}

scenario_25() {
    local file=$S/mail/elsewhere before
    browser_sign_in auth "$file"
    expect_rc auth 0
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    decrypt "$file"
    before=$(field "$file" access_token)
    mt list --list
    expect_rc list 0
    sed 's/^/   stdout: /' "$S/list.out"
    assert_file_has "$S/list.out" "^$file +$USER_LOGIN +e2e +ok$" "the account at a path in --list"
    reset_counts
    mt check --check --keepalive 0
    expect_rc check 0
    assert_eq "$(count refresh_token ok)" 1 "refreshes by --check"
    decrypt "$file"
    assert_ne "$(field "$file" access_token)" "$before" "the access token after --check"
    assert_active "$(field "$file" access_token)" "$USER_LOGIN"
}

scenario_26() {
    local port=$PORT_HTTPS_LOOPBACK
    reset_counts
    export E2E_ACCEPT_LOOPBACK_CERT=1
    with_browser auth --authorize --authflow localhostauthcode --provider e2e --issuer "$ISSUER" \
        --client-id "$E2E_HTTPS_CLIENT_ID" --client-secret "" --redirect-uri "https://localhost:$port/" \
        --scope "openid offline_access mail" --email "$USER_LOGIN" --sasl-method XOAUTH2 \
        --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS" --pop-endpoint "pop3s://127.0.0.1:$PORT_POP3S" \
        --smtp-endpoint "smtps://127.0.0.1:$PORT_SUBMISSIONS" --auth-timeout 60 "$S/token"
    unset E2E_ACCEPT_LOOPBACK_CERT
    expect_rc auth 0
    assert_file_has "$S/auth.err" "will warn that the connection to https://localhost:$port/ is not private" "the warning before the browser"
    assert_file_has "$S/auth-browser.log" "redirected to https://localhost:$port/ " "the browser's redirect"
    assert_file_has "$S/auth-browser.log" "page says: .*[Ss]igned in" "the listener's page over https"
    after_authorize auth "$S/token" localhostauthcode
    assert_eq "$(counts_json)" '{"authorization_code":{"ok":1}}' "token-endpoint requests"
}

scenario_30() {
    local file=$S/token pipe=$S/encrypt.sh runs=$S/pipe-runs printed kept
    new_identity
    obtain_login "$S/login.json"
    write_tokenfile "$S/login.json" "$file" '"expired":true'
    # An encryption pipe (age to the same recipient) that can be told to fail on its Nth run.
    # Its run counter starts at 0 (written before each use); a counter it cannot read stops it
    # with a message of its own instead of counting from 0 again.
    cat >"$pipe" <<EOF
#!/bin/sh
c=\$(cat '$runs') || { echo "encrypt.sh: no run counter at $runs" >&2; exit 3; }
n=\$((c + 1)); echo \$n > '$runs'
[ "\$n" = "\$(cat '$S/fail-on' 2>/dev/null)" ] && exit 1
exec age -r '$RECIPIENT'
EOF
    chmod 700 "$pipe"
    cp -p "$file" "$S/token.before"
    reset_counts

    # Broken between the provider's answer and the write (the write is the pipe's first run: the
    # proof before the refresh takes the room on disk and runs no encryption): the provider has
    # rotated the refresh token; the new token is printed and kept.
    echo 1 >"$S/fail-on"; echo 0 >"$runs"
    mt lost --encryption-pipe "$pipe" "$file"
    expect_rc lost 0
    assert_eq "$(cat "$runs")" 1 "runs of the encryption pipe (the failed write alone)"
    printed=$(token_from lost)
    assert_active "$printed" "$USER_LOGIN"
    assert_file_has "$S/lost.err" "next call that can write" "the warning"
    cmp -s "$file" "$S/token.before" || fail "the file changed although its write failed"
    kept=$(find "$S" -maxdepth 1 -name 'token.recovery' -type f | wc -l)
    assert_eq "$kept" 1 "kept token sets (beside the token file)"
    assert_eq "$(count refresh_token ok)" 1 "refreshes"

    # The next call (given its pipe again: a recorded command never runs on its own) adopts the
    # kept tokens without a request; the rotated refresh token is in the file, and using it works: the spent one was never sent again (reuse would end the login).
    rm -f "$S/fail-on"
    mt adopt --encryption-pipe "$pipe" "$file"
    expect_rc adopt 0
    assert_eq "$(token_from adopt)" "$printed" "the token after adoption"
    [ ! -e "$file.recovery" ] || fail "the kept token set is still there after its adoption"
    mt again --force-refresh --encryption-pipe "$pipe" "$file"
    expect_rc again 0
    assert_active "$(token_from again)" "$USER_LOGIN"
    assert_eq "$(count refresh_token ok)" 2 "refreshes"
    assert_eq "$(count refresh_token invalid_grant)" 0 "refresh tokens refused (reuse detected)"
    assert_opens_mailbox "$(token_from again)" "$USER_LOGIN"

    # A write that cannot happen whatever the answer (the file now records the pipe, which runs
    # only when given) is refused before the refresh: nothing is spent.
    cp -p "$file" "$S/token.before"
    mt broken --force-refresh "$file"
    expect_rc broken 78
    assert_eq "$(count refresh_token ok)" 2 "refreshes sent while the write could not work"
    cmp -s "$file" "$S/token.before" || fail "the file changed"
}

# A second user of this machine, for scenario 31: a system user with no home and no shell, made
# once and owning nothing.
OTHER_USER=mailtoken-e2e-other
ensure_other_user() {
    id -u "$OTHER_USER" >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin "$OTHER_USER" ||
        fail "cannot create the second user $OTHER_USER"
}

scenario_31() {
    ensure_other_user
    # What the other user may read: the login helper and the suite's CA, nothing of ours.
    local other_dir ca
    other_dir=$(mktemp -d /tmp/mailtoken-e2e-other.XXXXXX)
    chmod 755 "$other_dir"
    cp "$HERE/login.mjs" "$other_dir/"
    cp "$CA" "$other_dir/ca.pem"
    chmod 644 "$other_dir"/*
    ca=$other_dir/ca.pem
    # The victim's "browser", with an intruder before it. The other user learns the start page's
    # address from the browser's command line (any user can read it) and asks for it; then, as if
    # the state and PKCE challenge had leaked some other way, signs in at the provider as mallory
    # with this sign-in's own URL and delivers the provider's redirect to the listener. Then the
    # real browser signs the victim in.
    cat >"$S/browser-with-intruder.sh" <<EOF
#!/bin/sh
start=\$1
echo "\$start" >'$S/start-address'
runuser -u $OTHER_USER -- curl -sS --max-time 5 "\$start" >'$S/other-start.out' 2>'$S/other-start.err'
url=\$(curl -sS -o /dev/null -w '%{redirect_url}' "\$start")
echo "\$url" >'$S/sign-in-url'
redirect=\$(runuser -u $OTHER_USER -- env -C '$other_dir' E2E_ISSUER='$E2E_ISSUER' \\
    E2E_CLIENT_ID='$E2E_CLIENT_ID' NODE_EXTRA_CA_CERTS='$ca' node login.mjs follow "\$url" mallory@mail.test)
echo "\$redirect" >'$S/other-redirect-url'
runuser -u $OTHER_USER -- curl -sS --max-time 5 "\$redirect" >'$S/other-redirect.out' 2>'$S/other-redirect.err'
exec '$HERE/browser.sh' "\$url"
EOF
    chmod 755 "$S/browser-with-intruder.sh"
    authorize_flags
    reset_counts
    export BROWSER=$S/browser-with-intruder.sh E2E_LOGIN=$USER_LOGIN E2E_BROWSER_LOG=$S/auth-browser.log
    mt auth --authorize --authflow localhostauthcode "${AUTH_FLAGS[@]}" "$S/token"
    sed 's/^/   browser: /' "$E2E_BROWSER_LOG" 2>/dev/null || true
    sed 's/^/   intruder: /' "$S/other-start.err" "$S/other-redirect.err" 2>/dev/null || true
    rm -rf "$other_dir"
    # The command line held nothing of the sign-in.
    assert_match "$(cat "$S/start-address")" '^http://127\.0\.0\.1:[0-9]+/mailtoken-sign-in/[0-9a-f]{32}$' "the browser's start address"
    assert_match "$(cat "$S/sign-in-url")" "^https://127\.0\.0\.1:$PORT_PROVIDER/auth\?.*state=" "the sign-in URL behind it"
    # The other user got nothing for the start page, and nothing for mallory's redirect, which the
    # provider did issue for this sign-in's state.
    assert_eq "$(wc -c <"$S/other-start.out")" 0 "bytes the other user got for the start page"
    assert_match "$(cat "$S/other-redirect-url")" '^http://127\.0\.0\.1:[0-9]+/\?.*code=.*state=' "mallory's redirect from the provider"
    assert_eq "$(wc -c <"$S/other-redirect.out")" 0 "bytes the other user got for mallory's redirect"
    assert_file_has "$S/auth.err" 'refused a connection to the sign-in listener from another user' "the warning"
    # The sign-in went on with the victim's own login: the token is alice's, not mallory's.
    after_authorize auth "$S/token" localhostauthcode
    assert_eq "$(counts_json)" '{"authorization_code":{"ok":1}}' "token-endpoint requests"
}

# Dynamic registration (issue 36, item 4): no --client-id and no secret, an issuer whose metadata
# has a registration_endpoint. mailtoken registers a public native client, Chromium signs alice in
# with it, Dovecot takes the token; a second account at the issuer reuses the client without
# registering again.
scenario_32() {
    local flags=(--provider e2e --issuer "$ISSUER" --scope "openid offline_access mail"
        --email "$USER_LOGIN" --sasl-method XOAUTH2 --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS"
        --auth-timeout 60)
    reset_counts
    with_browser first --authorize --authflow localhostauthcode "${flags[@]}" "$S/first"
    expect_rc first 0
    assert_file_has "$S/first.err" 'registered itself at .* \(RFC 7591 dynamic registration\): client id [^ ]+, a public client' \
        "what mailtoken says about the registration"
    after_authorize first "$S/first" localhostauthcode
    local client
    client=$(field "$S/first" client_id)
    assert_ne "$client" "$E2E_CLIENT_ID" "the registered client id (not the static client's)"
    assert_ne "$(field "$S/first" dynamic_client.registration_access_token)" "(absent)" \
        "the registration access token in the token file"
    assert_eq "$(field "$S/first" client_secret)" "(absent)" "the client secret of a public client"
    # The provider knows the client: its registration can be read with the access token.
    curl -fsS --cacert "$CA" -H "Authorization: Bearer $(field "$S/first" dynamic_client.registration_access_token)" \
        "$(field "$S/first" dynamic_client.registration_client_uri)" >"$S/client.json" \
        || fail "the provider does not know the registered client"
    assert_eq "$(node "$HERE/json.mjs" get "$S/client.json" client_name)" mailtoken "the client's name"

    # A second account at the issuer: the same client, no new registration.
    with_browser second --authorize --authflow localhostauthcode "${flags[@]}" "$S/second"
    expect_rc second 0
    assert_file_has "$S/second.err" "using the registration of account .*first.* client id $client" "the reuse"
    assert_file_lacks "$S/second.err" 'registered itself' "a second registration"
    decrypt "$S/second"
    assert_eq "$(field "$S/second" client_id)" "$client" "the second account's client id"
    assert_opens_mailbox "$(token_from second)" "$USER_LOGIN"
}

# The sign-in flags of scenario 33 and 34: the public client with openid email, so that the ID
# token names who signed in.
identity_flags() { # EMAIL
    AUTH_FLAGS=(--provider e2e --issuer "$ISSUER" --client-id "$E2E_CLIENT_ID" --client-secret ""
        --scope "openid email offline_access mail" --email "$1" --sasl-method XOAUTH2
        --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS" --pop-endpoint "pop3s://127.0.0.1:$PORT_POP3S"
        --smtp-endpoint "smtps://127.0.0.1:$PORT_SUBMISSIONS" --auth-timeout 60)
}

scenario_33() {
    # The right user: saved, and every surface says who signed in.
    identity_flags "$USER_LOGIN"
    export BROWSER=$HERE/browser.sh E2E_LOGIN=$USER_LOGIN E2E_BROWSER_LOG=$S/right-browser.log
    mt right --authorize --authflow localhostauthcode "${AUTH_FLAGS[@]}" "$S/alice"
    expect_rc right 0
    assert_active "$(token_from right)" "$USER_LOGIN"
    mt status --status "$S/alice"
    # oidc-provider keeps the email claim out of the ID token when an access token comes with it
    # (its conformIdTokenClaims, after OpenID Connect Core 5.4): the UserInfo endpoint says it.
    assert_file_has "$S/status.out" "^signed in as: +$USER_LOGIN since .* \(from the UserInfo endpoint\)$" "--status"
    mt json --status --json "$S/alice"
    assert_file_has "$S/json.out" "\"signed_in_as\": \"$USER_LOGIN\"" "--json"

    # The browser is signed in as bob for alice's account: nothing is written, bob is named.
    reset_counts
    export E2E_LOGIN=bob@mail.test E2E_BROWSER_LOG=$S/wrong-browser.log
    mt wrong --authorize --authflow localhostauthcode "${AUTH_FLAGS[@]}" "$S/wrong"
    expect_rc wrong 78
    assert_file_has "$S/wrong.err" "signed in as bob@mail.test, but the account is $USER_LOGIN's: nothing was saved" "the refusal"
    assert_file_has "$S/wrong.err" "the new login was revoked" "the revocation"
    [ ! -e "$S/wrong" ] || fail "a file was written for the wrong user"
    # And an existing login is left exactly as it was.
    cp -p "$S/alice" "$S/alice.before"
    mt again --authorize --authflow localhostauthcode "$S/alice"
    expect_rc again 78
    cmp -s "$S/alice" "$S/alice.before" || fail "alice's file changed after bob's sign-in"

    # A device-flow sign-in as the wrong user is refused the same way.
    echo "\$ mailtoken --authorize --authflow devicecode ... (approved as bob) &"
    set +e
    mailtoken --authorize --authflow devicecode "${AUTH_FLAGS[@]}" "$S/device" \
        >"$S/device.out" 2>"$S/device.err" </dev/null &
    local pid=$!
    set -e
    wait_for_text "$pid" "$S/device.err" '\b[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}\b' 20 \
        || gave_up "$pid" device "mailtoken showed no user code"
    local uri code
    uri=$(grep -Eo "https://127\.0\.0\.1:$PORT_PROVIDER/device[^[:space:]\"'<>]*" "$S/device.err" | grep -v '/device/auth' | head -n 1 | sed 's/[).,;:]*$//')
    code=$(grep -Eo '\b[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}\b' "$S/device.err" | head -n 1)
    wait_for_polling "$pid" urn:ietf:params:oauth:grant-type:device_code
    node "$HERE/login.mjs" device "$uri" bob@mail.test "$code" || gave_up "$pid" device "the approval failed"
    wait_exit "$pid" device 30 "mailtoken kept polling after the approval"
    [ "$(cat "$S/device.rc" 2>/dev/null || echo "$RC")" = 78 ] || fail "the device sign-in as bob: exit $RC, not 78"
    assert_file_has "$S/device.err" "signed in as bob@mail.test, but the account is $USER_LOGIN's" "the device refusal"
    [ ! -e "$S/device" ] || fail "a file was written for the device sign-in as bob"

    # Two sign-ins of one file at once: the second is refused at once, before any browser.
    export E2E_LOGIN=$USER_LOGIN E2E_BROWSER_LOG=$S/first-browser.log
    echo "\$ mailtoken --authorize ... (the first) &"
    set +e
    mailtoken --authorize --authflow localhostauthcode --no-browser "${AUTH_FLAGS[@]}" "$S/twice" \
        >"$S/first.out" 2>"$S/first.err" </dev/null &
    pid=$!
    set -e
    wait_for_text "$pid" "$S/first.err" "Waiting up to" 20 || gave_up "$pid" first "the first sign-in never waited"
    printf '#!/bin/sh\ntouch %q\n' "$S/second-browser-opened" >"$S/second-browser.sh"
    chmod 755 "$S/second-browser.sh"
    BROWSER=$S/second-browser.sh mt second --authorize --authflow localhostauthcode "${AUTH_FLAGS[@]}" "$S/twice"
    expect_rc second 75
    assert_file_has "$S/second.err" "is already running \(pid $pid, since " "the second sign-in names the first"
    [ ! -e "$S/second-browser-opened" ] || fail "the second sign-in opened a browser"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

scenario_34() {
    # A delegate signs in with its own login for a shared mailbox: the SASL user is the mailbox.
    identity_flags "$DELEGATE_LOGIN"
    export BROWSER=$HERE/browser.sh E2E_LOGIN=$DELEGATE_LOGIN E2E_BROWSER_LOG=$S/auth-browser.log
    mt auth --authorize --authflow localhostauthcode "${AUTH_FLAGS[@]}" --mailbox "$SHARED_MAILBOX" "$S/sales"
    expect_rc auth 0
    local token
    token=$(token_from auth)
    # The token is the delegate's; the SASL string names the shared mailbox.
    assert_active "$token" "$SHARED_MAILBOX"
    mt sasl --format sasl "$S/sales"
    expect_rc sasl 0
    assert_eq "$(base64 -d <"$S/sasl.out" | tr '\001' '|')" "user=$SHARED_MAILBOX|auth=Bearer $token||" "the SASL string"
    mt status --status "$S/sales"
    assert_file_has "$S/status.out" "^mailbox: +$SHARED_MAILBOX \(the SASL user\)$" "--status names the mailbox"
    assert_file_has "$S/status.out" "^signed in as: +$DELEGATE_LOGIN since" "--status names the delegate"
    # Dovecot lets the delegate in as the mailbox, over IMAP, POP and SMTP (with MAIL FROM).
    mt test --test "$S/sales"
    expect_rc test 0
    imap_fetch "$token" "$SHARED_MAILBOX" >"$S/fetched.eml" || fail "curl could not open the shared mailbox"
    assert_file_has "$S/fetched.eml" '^Subject: e2e shared mailbox message' "the shared mailbox's message"
}

scenario_35() {
    # The provider states a 3-day refresh-token lifetime in its token responses.
    curl -fsS -X POST "$ADMIN/e2e/refresh-lifetime?seconds=$((3 * 24 * 3600))" >/dev/null
    local record=$S/notified
    export XDG_STATE_HOME=$S/state
    mkdir -p "$XDG_CONFIG_HOME/mailtoken"
    printf '#!/bin/sh\nprintf "%%s|%%s|%%s|pid=%%s\\n" "$MAILTOKEN_EVENT" "$MAILTOKEN_LOGIN_ENDS_BASIS" "$MAILTOKEN_ACCOUNT" "$$" >>%q\n' \
        "$record" >"$XDG_CONFIG_HOME/mailtoken/notify"
    chmod 755 "$XDG_CONFIG_HOME/mailtoken/notify"
    set +e
    browser_sign_in auth "$XDG_DATA_HOME/mailtoken/work"
    local signed_in=$RC
    set -e
    curl -fsS -X POST "$ADMIN/e2e/refresh-lifetime?seconds=0" >/dev/null
    [ "$signed_in" = 0 ] || fail "the sign-in failed (exit $signed_in)"
    # Every surface foresees the end.
    mt status --status work
    assert_file_has "$S/status.out" '^login ends: +.* \(in (2|3) days; the provider said so\)$' "--status"
    mt json --status --json work
    assert_file_has "$S/json.out" '"login_ends_basis": "stated"' "--json's basis"
    assert_file_has "$S/json.out" '"login_ends": "20[0-9-]+T[0-9:]+Z"' "--json's end"
    mt list --list
    assert_file_has "$S/list.out" '^work .* ok; login ends in (2|3) days$' "--list"
    # --check --warn-days 5 warns through the hook, once; a second check the same day does not.
    mt check1 --verbose --check --warn-days 5
    expect_rc check1 0
    assert_file_has "$S/check1.err" "mailtoken: work: the login ends .*sign in again before then" "the warning"
    mt check2 --verbose --check --warn-days 5
    expect_rc check2 0
    assert_file_has "$S/check2.err" "the notify hook already warned about this account today" "the second check"
    local started
    started=$(hooks_started check1 check2)
    assert_eq "$(grep -c . <<<"$started")" 1 "notify hooks started by two checks"
    wait_for_hooks "$record" "$started"
    assert_eq "$(cat "$record")" "ending|stated|work|pid=$started" "the hook's environment"
}

# Whether process PID has ended: gone, or a zombie that nobody has reaped yet (its parent, the
# call that started it, has exited).
process_ended() { # PID
    local state
    state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
    [ -z "$state" ] || [ "$state" = Z ]
}

scenario_44() {
    local record=$S/notified file=$XDG_DATA_HOME/mailtoken/work pid link i
    export XDG_STATE_HOME=$S/state
    # A bounded wait (debug builds only), so a failed scenario leaves no sign-in waiting long.
    export MAILTOKEN_TEST_SIGN_IN_WAIT=180
    mkdir -p "$XDG_CONFIG_HOME/mailtoken"
    printf '#!/bin/sh\nprintf "%%s|%%s|%%s|pid=%%s\\n" "$MAILTOKEN_EVENT" "$MAILTOKEN_SIGN_IN_URL" "$MAILTOKEN_SIGN_IN_UNTIL" "$$" >>%q\n' \
        "$record" >"$XDG_CONFIG_HOME/mailtoken/notify"
    chmod 755 "$XDG_CONFIG_HOME/mailtoken/notify"
    browser_sign_in auth work
    expect_rc auth 0
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    # The provider ends the login (RFC 7009, with the refresh token the file holds).
    decrypt "$file"
    local refresh
    refresh=$(field "$file" refresh_token)
    rm -f "$file.json"
    curl -fsS --cacert "$CA" --data-urlencode "token=$refresh" --data-urlencode "token_type_hint=refresh_token" \
        --data-urlencode "client_id=$E2E_CLIENT_ID" "$ISSUER/token/revocation" >/dev/null || fail "revoking at the provider"
    # The mail client's call (no terminal) finds it ended: 77, nothing on stdout, and a sign-in now
    # waits in the background, whose link the hook carries.
    mt call --verbose --force-refresh work
    expect_rc call 77
    assert_eq "$(wc -c <"$S/call.out" | tr -d ' ')" 0 "the mail client's stdout"
    assert_file_has "$S/call.err" "a sign-in waits in the background \(pid [0-9]+\)" "the call's verbose line"
    pid=$(sed -n 's/.*a sign-in waits in the background (pid \([0-9]*\)).*/\1/p' "$S/call.err")
    local started
    started=$(hooks_started call)
    wait_for_hooks "$record" "$started"
    sed 's/^/   hook: /' "$record"
    link=$(cut -d'|' -f2 "$record")
    [[ $link =~ ^http://127\.0\.0\.1:[0-9]+/mailtoken-sign-in/[0-9a-f]{32}$ ]] || fail "the hook's link: '$link'"
    assert_file_has "$record" "^ended\|http://.*\|20[0-9-]+T[0-9:]+Z\|pid=$started\$" "the hook's environment"
    mt status --status work
    assert_file_has "$S/status.out" "^sign-in link: +$link \(a sign-in waits in the background until " "--status"
    # The person clicks: Chromium opens the link, signs in at the provider, and comes back.
    echo "\$ (the notification's link, opened by headless Chromium)"
    E2E_LOGIN=$USER_LOGIN node "$HERE/browser.mjs" "$link" >"$S/click.log" 2>&1 || { sed 's/^/   browser: /' "$S/click.log"; fail "the browser could not sign in through the link"; }
    sed 's/^/   browser: /' "$S/click.log"
    for ((i = 0; i < 300; i++)); do process_ended "$pid" && break; sleep 0.1; done
    process_ended "$pid" || fail "the sign-in in the background (pid $pid) still runs after the sign-in"
    # Nothing is left behind: no record of the link, nothing listening, and the next call works.
    if ls "$XDG_STATE_HOME"/mailtoken/sign-in-* >/dev/null 2>&1; then fail "the link's record was left behind"; fi
    if curl -s -o /dev/null --max-time 2 "$link"; then fail "something still answers at $link"; fi
    mt next work
    expect_rc next 0
    assert_opens_mailbox "$(token_from next)" "$USER_LOGIN"
    mt json --status --json work
    cp "$S/json.out" "$S/after.json"
    assert_eq "$(node "$HERE/json.mjs" get "$S/after.json" state)" ok "--json after the sign-in"
}

scenario_45() {
    authorize_flags
    reset_counts
    local fifo=$S/stdin.fifo url redirected
    mkfifo "$fifo"
    echo "\$ SSH_CONNECTION=... mailtoken --authorize --authflow localhostauthcode --no-browser ... (under a pseudo-terminal, input from $fifo)"
    # As over ssh: the browser is on another machine, and its redirect cannot reach the listener.
    set +e
    SSH_CONNECTION="192.0.2.1 50000 192.0.2.2 22" script -qfec "$(printf '%q ' mailtoken --authorize --authflow localhostauthcode --no-browser "${AUTH_FLAGS[@]}" "$S/token") >$S/auth.out 2>$S/auth.err" \
        /dev/null <"$fifo" >"$S/script.log" 2>&1 &
    local pid=$!
    set -e
    exec 7>"$fifo"
    wait_for_text "$pid" "$S/auth.err" "or paste here the address the browser ends on" 20 \
        || gave_up "$pid" auth "mailtoken did not offer the paste"
    assert_file_has "$S/auth.err" "ssh -L ([0-9]+):localhost:\1 THIS-HOST" "the forwarding it names"
    url=$(grep -Eo "https://127\.0\.0\.1:$PORT_PROVIDER/auth\?[^[:space:]\"'<>]+" "$S/auth.err" | head -n 1 | sed 's/[).,;:]*$//')
    note "signing in at the printed URL, where the browser's redirect goes nowhere"
    redirected=$(node "$HERE/login.mjs" follow "$url" "$USER_LOGIN") || gave_up "$pid" auth "headless sign-in failed"
    [[ $redirected =~ ^http://127\.0\.0\.1:[0-9]+/\? ]] || gave_up "$pid" auth "the provider redirected to '$redirected'"
    note "pasting the address the browser ended on (${#redirected} characters)"
    printf '%s\n' "$redirected" >&7
    wait_exit "$pid" auth 30 "mailtoken did not finish after the paste"
    exec 7>&-
    sed 's/^/   stderr: /' "$S/auth.err"
    after_authorize auth "$S/token" localhostauthcode
    assert_eq "$(counts_json)" '{"authorization_code":{"ok":1}}' "token-endpoint requests"
}
