# The scenarios against glewlwyd 2.7.5 (Debian 12's package), the suite's second OpenID Connect
# provider, written independently of oidc-provider; sourced by tests/e2e/run after scenarios.sh,
# whose checks and helpers they use. lib.sh's start_glewlwyd has started it and glewlwyd.mjs
# configured it: issuer $GLEWLWYD_ISSUER, one-time refresh tokens, the public client
# $E2E_GLEWLWYD_CLIENT_ID registered with exactly $E2E_GLEWLWYD_REDIRECT (port
# $PORT_GLEWLWYD_REDIRECT), the users alice and mallory (user names; their addresses are
# NAME@mail.test). What each scenario expects of glewlwyd was read in its source at v2.7.5
# (src/plugin/protocol_oidc.c; docs/providers.md, "Self-hosted providers"); each shows it as it
# happens, with glewlwyd's own answers beside mailtoken's.
# shellcheck shell=bash

# How a person sets mailtoken up for a glewlwyd they were given: the issuer, the client id, the
# scopes the administrator defined. GLW_FLAGS.
glewlwyd_flags() {
    GLW_FLAGS=(--provider glewlwyd --issuer "$GLEWLWYD_ISSUER" --client-id "$E2E_GLEWLWYD_CLIENT_ID"
        --client-secret "" --scope "openid email mail" --email "$USER_LOGIN" --sasl-method XOAUTH2
        --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS" --smtp-endpoint "smtps://127.0.0.1:$PORT_SUBMISSIONS")
}

# glewlwyd_sign_in NAME LOGIN ARGS...: mailtoken ARGS with glewlwyd.mjs's headless user as
# $BROWSER signing LOGIN in; the user's report ($S/NAME-browser.log) is shown once it has ended.
glewlwyd_sign_in() {
    local name=$1 login=$2 i
    shift 2
    export BROWSER=$HERE/glewlwyd-browser.sh E2E_LOGIN=$login E2E_BROWSER_LOG=$S/$name-browser.log
    mt "$name" "$@"
    for ((i = 0; i < 100; i++)); do
        grep -Eq 'page says|failed' "$E2E_BROWSER_LOG" 2>/dev/null && break
        sleep 0.1
    done
    sed 's/^/   browser: /' "$E2E_BROWSER_LOG" 2>/dev/null || true
}

# The stdout of run NAME must be exactly one line holding a glewlwyd access token (a JWT, ES256);
# prints it.
glw_token_from() {
    local file=$S/$1.out lines
    lines=$(wc -l <"$file")
    [ "$lines" = 1 ] || fail "stdout of $1 has $lines lines, expected exactly 1"
    [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n' ] || fail "stdout of $1 does not end in a newline"
    assert_match "$(cat "$file")" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "stdout of $1"
    cat "$file" | tr -d '\n'
}

# glw_userinfo TOKEN: the e-mail address glewlwyd's UserInfo endpoint gives for an access token,
# or "refused HTTP N".
glw_userinfo() {
    local status
    status=$(curl -sS --cacert "$CA" -o "$S/userinfo.json" -w '%{http_code}' -H "Authorization: Bearer $1" \
        "$GLEWLWYD_ISSUER/userinfo") || fail "glewlwyd's UserInfo endpoint did not answer"
    if [ "$status" = 200 ]; then node "$HERE/json.mjs" get "$S/userinfo.json" email; else echo "refused HTTP $status"; fi
}

glw_log_mark() { wc -c <"$W/logs/glewlwyd.log" | tr -d ' ' >"$S/glewlwyd.mark"; }
glw_log_since() { tail -c +"$(($(cat "$S/glewlwyd.mark") + 1))" "$W/logs/glewlwyd.log"; }

# glewlwyd_account FILE [NAME]: a signed-in account for the scenarios after 36, alice on the
# registered port; the sign-in's files are $S/NAME.* (setup by default).
glewlwyd_account() {
    local name=${2:-setup}
    glewlwyd_flags
    glewlwyd_sign_in "$name" alice --authorize --authflow localhostauthcode "${GLW_FLAGS[@]}" \
        --auth-timeout 30 --port "$PORT_GLEWLWYD_REDIRECT" "$1"
    expect_rc "$name" 0
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
}

scenario_36() {
    local file=$S/token token port=$PORT_GLEWLWYD_REDIRECT
    glewlwyd_flags
    glw_log_mark
    export E2E_AUTH_URL_FILE=$S/auth-url
    glewlwyd_sign_in auth alice --authorize --authflow localhostauthcode "${GLW_FLAGS[@]}" --auth-timeout 30 \
        --port "$port" "$file"
    expect_rc auth 0
    unset E2E_AUTH_URL_FILE
    token=$(glw_token_from auth)
    assert_file_has "$S/auth-browser.log" "redirect_uri http://127\.0\.0\.1:$port/;" "the redirect address mailtoken asked for"
    assert_file_has "$S/auth-browser.log" "sent on to .*; parameters: .*\bnonce\b" "a nonce in the authorization request"
    glw_log_since >"$S/glewlwyd-auth.log"
    assert_file_has "$S/glewlwyd-auth.log" "id_token generated for client '$E2E_GLEWLWYD_CLIENT_ID' granted by user 'alice'" "glewlwyd's log"
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$token" "access token in the file"
    assert_eq "$(field "$file" flow)" localhostauthcode "flow in the file"
    assert_eq "$(field "$file" email)" "$USER_LOGIN" "e-mail in the file"
    assert_eq "$(field "$file" registration.token_endpoint)" "$GLEWLWYD_ISSUER/token" "token endpoint (discovered)"
    assert_eq "$(field "$file" registration.redirect_uri)" "http://127.0.0.1:$port/" "the redirect address kept"
    assert_eq "$(field "$file" signed_in.user) $(field "$file" signed_in.from)" "$USER_LOGIN id_token" "who signed in"
    [ "$(field "$file" refresh_token)" != "(absent)" ] || fail "no refresh token stored"
    assert_mode_600 "$file"
    assert_eq "$(glw_userinfo "$token")" "$USER_LOGIN" "whom glewlwyd's UserInfo endpoint says the token is for"
    mt status --status "$file"
    expect_rc status 0
    assert_file_has "$S/status.out" "^signed in as: +$USER_LOGIN since .*\(from the ID token\)" "--status"
    # The same request without its nonce: glewlwyd refuses it (OpenID Connect Core makes the nonce
    # optional in the code flow; glewlwyd wants one whenever openid is asked for).
    local refused
    refused=$(node "$HERE/glewlwyd.mjs" follow "$(sed -E 's/([?&])nonce=[^&]*(&|$)/\1/' "$S/auth-url")" alice) \
        || fail "glewlwyd did not redirect the request without a nonce"
    note "without the nonce: $refused"
    assert_match "$refused" "^http://127\.0\.0\.1:$port/\?state=[^&]+&error=invalid_request&error_description=nonce\+required$" "glewlwyd's answer without a nonce"
    # The second sign-in: no --port, no flags at all; the account's own redirect address again.
    glw_log_mark
    glewlwyd_sign_in again alice --authorize --auth-timeout 30 "$file"
    expect_rc again 0
    assert_file_has "$S/again-browser.log" "redirect_uri http://127\.0\.0\.1:$port/;" "the second sign-in's redirect address"
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$(glw_token_from again)" "the new token in the file"
    assert_eq "$(field "$file" registration.redirect_uri)" "http://127.0.0.1:$port/" "the redirect address still kept"
}

# glw_refresh_by_curl REFRESH_TOKEN NAME: a refresh as the public client, outside mailtoken;
# glewlwyd's status, headers and body in $S/NAME.status, .headers, .body.
glw_refresh_by_curl() {
    curl -sS --cacert "$CA" -D "$S/$2.headers" -o "$S/$2.body" -w '%{http_code}' \
        --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$1" \
        --data-urlencode "client_id=$E2E_GLEWLWYD_CLIENT_ID" "$GLEWLWYD_ISSUER/token" >"$S/$2.status" \
        || fail "glewlwyd's token endpoint did not answer"
    note "glewlwyd answered the refresh by hand with HTTP $(cat "$S/$2.status") and $(wc -c <"$S/$2.body" | tr -d ' ') bytes"
}

scenario_37() {
    local file=$S/token first second third
    glewlwyd_account "$file"
    decrypt "$file"
    first=$(field "$file" refresh_token)
    glw_log_mark
    mt refresh --force-refresh "$file"
    expect_rc refresh 0
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$(glw_token_from refresh)" "the new access token in the file"
    second=$(field "$file" refresh_token)
    [ "$second" != "(absent)" ] || fail "no refresh token stored after the refresh"
    assert_ne "$second" "$first" "the refresh token before and after a refresh (one-time: a new one)"
    assert_eq "$(glw_userinfo "$(glw_token_from refresh)")" "$USER_LOGIN" "whom the refreshed token is for"
    glw_log_since >"$S/glewlwyd-refresh.log"
    assert_file_has "$S/glewlwyd-refresh.log" "Access token generated for client '$E2E_GLEWLWYD_CLIENT_ID' granted by user 'alice'" "glewlwyd's log of the refresh"
    # The stored one is the live one: the next refresh sends it and gets another (had mailtoken
    # kept the first, glewlwyd would refuse it, and the chain with it).
    mt again --force-refresh "$file"
    expect_rc again 0
    decrypt "$file"
    third=$(field "$file" refresh_token)
    assert_ne "$third" "$second" "the refresh token after a second refresh"
    assert_eq "$(field "$file" access_token)" "$(glw_token_from again)" "the second new access token in the file"
    mt status --status "$file"
    assert_file_has "$S/status.out" '^state: +ok' "--status after two refreshes"
}

# glw_spend FILE NAME: the file's refresh token is spent by a refresh (mailtoken's), then replayed
# with curl: glewlwyd refuses it with a bare 400 and disables the chain's current refresh token,
# the one the file now holds. Its answer in $S/NAME.*.
glw_spend() {
    local spent
    decrypt "$1"
    spent=$(field "$1" refresh_token)
    rm -f "$1.json"
    mt "$2-rotate" --force-refresh "$1"
    expect_rc "$2-rotate" 0
    glw_refresh_by_curl "$spent" "$2"
    assert_eq "$(cat "$S/$2.status") $(wc -c <"$S/$2.body" | tr -d ' ')" "400 0" "glewlwyd's answer to the spent refresh token (status, body bytes)"
}

scenario_38() {
    local file=$S/token other=$S/other
    glewlwyd_account "$file"
    glewlwyd_account "$other" setup-other
    glw_log_mark
    glw_spend "$file" replay
    sed 's/^/   header: /' "$S/replay.headers"
    assert_file_lacks "$S/replay.headers" '^[Cc]ontent-[Tt]ype:' "a content type on the refusal"
    glw_log_since >"$S/glewlwyd-replay.log"
    sed 's/^/   glewlwyd: /' "$S/glewlwyd-replay.log"
    assert_file_has "$S/glewlwyd-replay.log" 'Security - Token invalid' "glewlwyd's log of the replay"
    # mailtoken's next refresh meets the same bare 400: the refresh token was refused, the login
    # has ended, and nothing about it is temporary.
    mt refresh --force-refresh "$file"
    expect_rc refresh 77
    assert_eq "$(wc -c <"$S/refresh.out" | tr -d ' ')" 0 "stdout of the refused refresh"
    assert_file_has "$S/refresh.err" 'refused the refresh token without a reason \(HTTP status 400, no body\)' "what the refusal is called"
    assert_file_has "$S/refresh.err" "hint: run 'mailtoken --authorize " "the fix named"
    assert_file_lacks "$S/refresh.err" 'try again later|the login itself is fine|captive portal' "a temporary verdict"
    mt status --status "$file"
    assert_file_has "$S/status.out" '^state: +needs sign-in since ' "--status"
    # The second login, spent the same way, first heard of by --check's keep-alive refresh: the
    # login ended, --authorize named; not "temporarily unreachable".
    glw_spend "$other" replay-other
    glw_log_mark
    mt check --check --keepalive 0 "$other"
    expect_rc check 77
    assert_eq "$(glw_log_since | grep -c 'Security - Token invalid')" 1 "refreshes --check had refused at glewlwyd"
    assert_file_has "$S/check.err" 'refused the refresh token without a reason' "--check's reason"
    assert_file_has "$S/check.err" "run 'mailtoken --authorize " "--check's line"
    assert_file_lacks "$S/check.err" 'unreachable|temporar|try again' "--check calling it temporary"
}

scenario_39() {
    local file=$S/token refresh
    glewlwyd_account "$file"
    decrypt "$file"
    refresh=$(field "$file" refresh_token)
    rm -f "$file.json"
    : >"$file.lock"
    mt revoke --revoke "$file"
    expect_rc revoke 0
    assert_file_has "$S/revoke.err" 'does not let this client revoke' "what --revoke says"
    [ ! -e "$file" ] || fail "the token file is still there"
    [ ! -e "$file.lock" ] || fail "the lock file is still there"
    # What mailtoken was answered, asked again with curl: 401 and no body (ulfius's answer to a
    # public client, which has no secret to authenticate to /revoke with).
    local status
    status=$(curl -sS --cacert "$CA" -D "$S/revoke.headers" -o "$S/revoke.body" -w '%{http_code}' \
        --data-urlencode "token=$refresh" --data-urlencode token_type_hint=refresh_token \
        --data-urlencode "client_id=$E2E_GLEWLWYD_CLIENT_ID" "$GLEWLWYD_ISSUER/revoke")
    sed 's/^/   header: /' "$S/revoke.headers"
    assert_eq "$status $(wc -c <"$S/revoke.body" | tr -d ' ')" "401 0" "glewlwyd's answer to the public client's revocation (status, body bytes)"
    # So the login lives on at glewlwyd, as mailtoken said: its refresh token still refreshes.
    glw_refresh_by_curl "$refresh" alive
    assert_eq "$(cat "$S/alive.status")" 200 "a refresh with the login's refresh token after --revoke"
}

scenario_40() {
    local file=$S/token pid uri code
    glewlwyd_flags
    echo "\$ mailtoken --authorize --authflow devicecode ... &"
    set +e
    mailtoken --authorize --authflow devicecode "${GLW_FLAGS[@]}" "$file" >"$S/auth.out" 2>"$S/auth.err" </dev/null &
    pid=$!
    set -e
    wait_for_text "$pid" "$S/auth.err" "$E2E_GLEWLWYD/api/oidc/device" 20 \
        || gave_up "$pid" auth "mailtoken showed no verification URI"
    wait_for_text "$pid" "$S/auth.err" '\b[A-Z0-9]{4}-[A-Z0-9]{4}\b' 10 || gave_up "$pid" auth "mailtoken showed no user code"
    code=$(grep -Eo '\b[A-Z0-9]{4}-[A-Z0-9]{4}\b' "$S/auth.err" | head -n 1)
    uri=$(grep -Eo "$E2E_GLEWLWYD/api/oidc/device\?code=[A-Z0-9-]+" "$S/auth.err" | head -n 1 || true)
    [ -n "$uri" ] || uri="$E2E_GLEWLWYD/api/oidc/device?code=$code"
    note "approving $code at $uri"
    node "$HERE/glewlwyd.mjs" device "$uri" alice || gave_up "$pid" auth "the approval failed"
    wait_exit "$pid" auth 30 "mailtoken kept polling after the approval"
    sed 's/^/   stderr: /' "$S/auth.err"
    expect_rc auth 0
    local token
    token=$(glw_token_from auth)
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    decrypt "$file"
    assert_eq "$(field "$file" access_token)" "$token" "access token in the file"
    assert_eq "$(field "$file" flow)" devicecode "flow in the file"
    [ "$(field "$file" refresh_token)" != "(absent)" ] || fail "no refresh token stored"
    assert_eq "$(glw_userinfo "$token")" "$USER_LOGIN" "whom the token is for"
    note "signed in as: $(field "$file" signed_in.user) (from $(field "$file" signed_in.from))"
}

scenario_41() {
    glewlwyd_flags
    glewlwyd_sign_in auth mallory --authorize --authflow localhostauthcode "${GLW_FLAGS[@]}" --auth-timeout 30 \
        --port "$PORT_GLEWLWYD_REDIRECT" "$S/token"
    expect_rc auth 78
    assert_file_has "$S/auth-browser.log" 'page says: .*[Ss]igned in' "the sign-in itself, which went through"
    assert_file_has "$S/auth.err" "signed in as $OTHER_ADDRESS, but the account is $USER_LOGIN's: nothing was saved" "the refusal"
    # mailtoken revokes the login it does not keep; glewlwyd refuses that to a public client, so
    # mallory's new login stays, and the message says where to end it by hand.
    assert_file_has "$S/auth.err" "127\.0\.0\.1:$PORT_GLEWLWYD does not let this client revoke the new login \(HTTP status 401, no body\); remove mailtoken's access" "what becomes of the new login"
    assert_eq "$(wc -c <"$S/auth.out" | tr -d ' ')" 0 "stdout"
    [ ! -e "$S/token" ] || fail "a sign-in as someone else wrote the token file"
}

scenario_42() {
    glewlwyd_flags
    glewlwyd_sign_in auth alice --authorize --authflow localhostauthcode "${GLW_FLAGS[@]}" --auth-timeout 3 "$S/token"
    expect_rc auth 75
    local port
    port=$(sed -n 's/.*redirect_uri http:\/\/127\.0\.0\.1:\([0-9]*\)\/;.*/\1/p' "$S/auth-browser.log" | head -n 1)
    [ -n "$port" ] || fail "the headless user saw no redirect address"
    assert_ne "$port" "$PORT_GLEWLWYD_REDIRECT" "the random port and the registered one"
    assert_file_has "$S/auth-browser.log" "failed: .*HTTP 403 with an empty body at /api/oidc/auth" "glewlwyd's answer to the unregistered address"
    assert_file_has "$S/auth.err" "register exactly http://127\.0\.0\.1:$port/ and sign in with --port $port" "the exact address to register, and the flag"
    [ ! -e "$S/token" ] || fail "an unfinished sign-in wrote a file"
    # Doing as told: the administrator registers that address, and the command mailtoken printed,
    # with --port added, signs in; the account keeps the address.
    node "$HERE/glewlwyd.mjs" redirects "$E2E_GLEWLWYD_REDIRECT" "http://127.0.0.1:$port/" \
        || fail "registering the address failed"
    local command
    command=$(sed -n "s/.* Then run '\(.*\)' again (--auth-timeout .*/\1/p" "$S/auth.err")
    [ -n "$command" ] || fail "no command to run again"
    eval "set -- $command"
    assert_eq "$1 $2" "mailtoken --authorize" "the command to run again"
    shift
    glewlwyd_sign_in again alice "$@" --port "$port"
    node "$HERE/glewlwyd.mjs" redirects "$E2E_GLEWLWYD_REDIRECT" || fail "restoring the client failed"
    expect_rc again 0
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    decrypt "$S/token"
    assert_eq "$(field "$S/token" registration.redirect_uri)" "http://127.0.0.1:$port/" "the redirect address kept"
}

scenario_43() {
    local file=$S/token port=$PORT_GLEWLWYD_REDIRECT id
    # What glewlwyd makes of a registration that asks for token_endpoint_auth_method none: its
    # answer says none, its client is confidential (without a secret, so it cannot sign in).
    curl -sS --cacert "$CA" -o "$S/none.json" -H 'content-type: application/json' -d "{\"client_name\":\"probe\",\"application_type\":\"native\",\"redirect_uris\":[\"http://127.0.0.1:$port/\"],\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],\"token_endpoint_auth_method\":\"none\"}" \
        "$GLEWLWYD_ISSUER/register" || fail "registering by hand failed"
    note "glewlwyd's answer to a registration with none: $(cat "$S/none.json")"
    assert_eq "$(node "$HERE/json.mjs" get "$S/none.json" token_endpoint_auth_method)" none "the answer's token_endpoint_auth_method"
    node "$HERE/json.mjs" get "$S/none.json" confidential >/dev/null 2>&1 && fail "the answer says whether the client is confidential"
    node "$HERE/glewlwyd.mjs" client "$(node "$HERE/json.mjs" get "$S/none.json" client_id)" >"$S/none-client.json"
    assert_eq "$(node "$HERE/json.mjs" get "$S/none-client.json" confidential)" true "what glewlwyd made of it (admin API)"
    # ...which its token endpoint refuses as a public client (tests/corpus/provider_answers.rs).
    local refused
    refused=$(curl -sS --cacert "$CA" -D "$S/none-token.headers" -o "$S/none-token.body" -w '%{http_code}' \
        --data-urlencode grant_type=authorization_code --data-urlencode code=no-such-code-0123456789abcdef \
        --data-urlencode "redirect_uri=http://127.0.0.1:$port/" --data-urlencode code_verifier=no-such-verifier-0123456789abcdef0123456789 \
        --data-urlencode "client_id=$(node "$HERE/json.mjs" get "$S/none.json" client_id)" "$GLEWLWYD_ISSUER/token")
    sed 's/^/   header: /' "$S/none-token.headers"
    assert_eq "$refused $(cat "$S/none-token.body")" '403 {"error":"unauthorized_client"}' "the token endpoint's answer to that client"
    # mailtoken with no client id: it registers itself and signs in with that client.
    glewlwyd_sign_in auth alice --authorize --authflow localhostauthcode --provider glewlwyd \
        --issuer "$GLEWLWYD_ISSUER" --scope "openid email mail" --email "$USER_LOGIN" \
        --imap-endpoint "imaps://127.0.0.1:$PORT_IMAPS" --port "$port" --auth-timeout 30 "$file"
    expect_rc auth 0
    id=$(sed -n "s/.*registered itself at .* (RFC 7591 dynamic registration): client id \([^,]*\), a public client;.*/\1/p" "$S/auth.err")
    [ -n "$id" ] || fail "mailtoken did not say it registered a public client"
    node "$HERE/glewlwyd.mjs" client "$id" >"$S/client.json"
    note "glewlwyd's client: $(cat "$S/client.json")"
    assert_eq "$(node "$HERE/json.mjs" get "$S/client.json" confidential)" false "the registered client at glewlwyd (admin API)"
    assert_eq "$(node "$HERE/json.mjs" get "$S/client.json" redirect_uri)" "[\"http://127.0.0.1:$port/\"]" "its redirect URI"
    IDENTITY=$XDG_CONFIG_HOME/mailtoken/age-identity.txt
    decrypt "$file"
    assert_eq "$(field "$file" client_id)" "$id" "client id in the file"
    assert_eq "$(field "$file" client_secret)" "(absent)" "client secret in the file"
    assert_eq "$(field "$file" signed_in.user)" "$USER_LOGIN" "who signed in"
    assert_eq "$(glw_userinfo "$(glw_token_from auth)")" "$USER_LOGIN" "whom the token is for"
    # The registered client refreshes too.
    mt refresh --force-refresh "$file"
    expect_rc refresh 0
    assert_eq "$(glw_userinfo "$(glw_token_from refresh)")" "$USER_LOGIN" "whom the refreshed token is for"
}
