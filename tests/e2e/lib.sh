# The end-to-end world, shared by tests/e2e/run (the suite) and tests/e2e/try (the demo): installs
# what is missing, builds mailtoken, and starts a real OAuth2 provider, an SMTP sink and Dovecot on
# loopback from a private work directory that a trap cleans up. Sourced; the caller defines say
# and die and then calls e2e_setup.
# shellcheck shell=bash

HERE=${HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
ROOT=${ROOT:-$(cd "$HERE/../.." && pwd)}
SUITE_START=${SUITE_START:-$(date +%s)}

# ---------------------------------------------------------------------------------------------
# Installation: only what is missing; apt-get update at most once.

# What every use of the servers needs; run adds the mail clients its scenarios drive.
APT_PACKAGES=(dovecot-imapd dovecot-pop3d dovecot-submissiond chromium age curl openssl nodejs npm)

# exim for scenario 16, whatever mail transport agent the machine has. Installing Debian's
# exim4-daemon-light would replace that MTA (they conflict), and the scenario needs none of the
# packaged installation: it runs `exim -C` with a private configuration, spool and logs. So the
# package is unpacked instead (apt-get download, dpkg-deb -x) into $E2E_EXIM_DIR, once, and its
# shared libraries (plain library packages, listed in its Depends) join APT_PACKAGES. The binary
# is built to run as the user Debian-exim and will not start without it, so that user is created
# as exim4-base's own postinst creates it (a system user and group; exim4-base, if installed
# later, keeps it). Nothing else of the system changes. Sets E2E_EXIM, the binary.
E2E_EXIM_DIR=$HERE/exim-private
prepare_private_exim() {
    E2E_EXIM=$E2E_EXIM_DIR/usr/sbin/exim4
    export E2E_EXIM
    if [ ! -x "$E2E_EXIM" ] || [ ! -f "$E2E_EXIM_DIR/DEPENDS" ]; then
        say "unpacking exim4-daemon-light into $E2E_EXIM_DIR (apt-get download, dpkg-deb -x)"
        local tmp deb
        tmp=$(mktemp -d)
        if ! (cd "$tmp" && apt-get download exim4-daemon-light >/dev/null 2>&1); then
            apt-get update -qq >/dev/null || die "apt-get update failed"
            (cd "$tmp" && apt-get download exim4-daemon-light >/dev/null 2>&1) \
                || { rm -rf "$tmp"; die "apt-get download exim4-daemon-light failed"; }
        fi
        deb=$(ls "$tmp"/exim4-daemon-light_*.deb)
        rm -rf "$E2E_EXIM_DIR"
        dpkg-deb -x "$deb" "$E2E_EXIM_DIR" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
        # The libraries it links: its Depends without exim4-base and debconf (the packaged
        # installation's, which this does not use), versions and alternatives dropped.
        dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/([^)]*)//g; s/|.*//; s/[[:space:]]//g' \
            | grep -vE '^(exim4-base|debconf)$' >"$E2E_EXIM_DIR/DEPENDS"
        dpkg-deb -f "$deb" Version >"$E2E_EXIM_DIR/VERSION"
        rm -rf "$tmp"
    fi
    local package
    while read -r package; do APT_PACKAGES+=("$package"); done <"$E2E_EXIM_DIR/DEPENDS"
}

# After install_missing: the user the binary runs as, and proof that it starts.
finish_private_exim() {
    if ! getent passwd Debian-exim >/dev/null; then
        say "creating the system user Debian-exim (as exim4-base does) for the private exim"
        if command -v adduser >/dev/null; then
            adduser --system --group --quiet --home /var/spool/exim4 --no-create-home \
                --disabled-login --force-badname Debian-exim
        else
            useradd --system --user-group --home-dir /var/spool/exim4 --no-create-home \
                --shell /usr/sbin/nologin Debian-exim
        fi || die "could not create the user Debian-exim"
    fi
    # -bV with an empty configuration (the binary knows only the packaged one's paths).
    "$E2E_EXIM" -C /dev/null -bV >"$W/logs/exim-version.log" 2>&1 \
        || { cat "$W/logs/exim-version.log" >&2; die "the private exim ($E2E_EXIM) does not start"; }
}

# Answers to packages' debconf questions ("PACKAGE QUESTION TYPE VALUE", as debconf-set-selections
# reads them), given before the packages that ask them are installed.
APT_PRESEED=()

install_missing() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$package")
    done
    # The machine's own Node.js (not Debian's) counts when it is new enough.
    if command -v node >/dev/null && command -v npm >/dev/null; then
        local kept=()
        for package in "${missing[@]}"; do
            case $package in nodejs|npm) ;; *) kept+=("$package") ;; esac
        done
        missing=("${kept[@]+"${kept[@]}"}")
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -qq >/dev/null || die "apt-get update failed"
        if [ ${#APT_PRESEED[@]} -gt 0 ]; then
            printf '%s\n' "${APT_PRESEED[@]}" | debconf-set-selections || die "debconf-set-selections failed"
        fi
        # Dovecot and exim come with system services; none of them may start. Debian's maintainer
        # scripts ask policy-rc.d first: a temporary one says no (exit 101), unless one is there.
        local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\n# mailtoken e2e: no service starts while it installs packages\nexit 101\n' >"$policy"
            chmod 755 "$policy"
            made_policy=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null || rc=$?
        if [ $made_policy = 1 ]; then rm -f "$policy"; fi
        [ $rc = 0 ] || die "apt-get install ${missing[*]} failed"
    fi
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge 20 ] || die "oidc-provider 9 needs Node.js 20 or newer (found $(node --version))"
    # npm ci again only when the lock file changed since the last install.
    if ! cmp -s "$HERE/package-lock.json" "$HERE/node_modules/.package-lock.stamp" 2>/dev/null; then
        say "installing oidc-provider and playwright-core (npm ci)"
        (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) \
            || (cd "$HERE" && npm ci --no-audit --no-fund) || die "npm ci failed"
        cp "$HERE/package-lock.json" "$HERE/node_modules/.package-lock.stamp"
    fi
}

build_mailtoken() {
    if [ -n "${E2E_MAILTOKEN:-}" ]; then
        MAILTOKEN=$E2E_MAILTOKEN
    else
        say "building mailtoken (cargo build, debug profile)"
        (cd "$ROOT" && cargo build --quiet --bin mailtoken) || die "cargo build failed"
        local target=${CARGO_TARGET_DIR:-target}
        case $target in /*) ;; *) target=$ROOT/$target ;; esac
        MAILTOKEN=$target/debug/mailtoken
    fi
    [ -x "$MAILTOKEN" ] || die "no mailtoken binary at $MAILTOKEN"
}


# ---------------------------------------------------------------------------------------------
# The work directory and the cleanup that always runs.

# tmux servers of the terminal-program scenarios (13, 17) detach from the scenario's process
# group; each recorded its PID in $W/pids/tmux.sN.NAME. Stopped by PID, and only while that PID
# still is a tmux of ours (its command line names its socket in $W).
stop_tmux_servers() { # [sN]
    local file pid
    for file in "$W"/pids/tmux."${1:-}"*; do
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        if grep -qaF "$W/" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
        rm -f "$file"
    done
}
# The work directory $W, and the trap that stops everything started and removes it.
e2e_workdir() {
    W=$(mktemp -d /tmp/mailtoken-e2e.XXXXXX)
    # Dovecot's unprivileged users must traverse it; secrets live in the 0700 subdirectory.
    chmod 755 "$W"
    mkdir -m 700 "$W/secret"
    mkdir -p "$W/logs" "$W/pids" "$W/bin"
    ln -s "$MAILTOKEN" "$W/bin/mailtoken"
    export PATH="$W/bin:$PATH"
    export E2E_PIDS_DIR=$W/pids
    # A login found ended, with a notify hook, starts a sign-in that waits in the background for
    # a browser: in the suite (a debug build) it waits 30 s, not 15 minutes, unless a scenario
    # opens its link and says otherwise; the cleanup ends any still waiting.
    export MAILTOKEN_TEST_SIGN_IN_WAIT=30
    PIDS=()
    DOVECOT_CONF=
    SCENARIO_PID=
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

cleanup() {
    local status=$? pid file
    trap - EXIT INT TERM
    if [ -n "${SCENARIO_PID:-}" ]; then
        kill -TERM -- "-$SCENARIO_PID" 2>/dev/null || true
    fi
    # Our Dovecot: asked to stop, then waited for (its master's command line names our config, so
    # a reused PID is never mistaken for it), then killed if it is still there.
    if [ -n "$DOVECOT_CONF" ] && [ -f "$W/dovecot/run/master.pid" ]; then
        pid=$(cat "$W/dovecot/run/master.pid" 2>/dev/null || true)
        doveadm -c "$DOVECOT_CONF" stop >/dev/null 2>&1 || true
        local i
        for ((i = 0; i < 50; i++)); do
            grep -qaF "$DOVECOT_CONF" "/proc/$pid/cmdline" 2>/dev/null || break
            sleep 0.1
        done
        if grep -qaF "$DOVECOT_CONF" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
    # Our own children, by PID.
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill "$pid" 2>/dev/null || true
    done
    # Browser drivers that $BROWSER started in the background: by PID, and only while that PID
    # still runs our driver (it may have ended and the number been reused).
    for file in "$W"/pids/browser.*; do
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        if grep -qaE "$HERE/(browser|glewlwyd)\.mjs" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    stop_tmux_servers
    # Sign-ins waiting in the background that a scenario started: mailtoken's own processes, by
    # their flag, and only those whose environment is this suite's.
    for pid in $(pgrep -f -- '--sign-in-in-background' 2>/dev/null || true); do
        if grep -qaF "E2E_PIDS_DIR=$W/pids" "/proc/$pid/environ" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    for file in "$W"/gnupg-homes/*; do
        [ -e "$file" ] || continue
        GNUPGHOME=$(readlink -f "$file") gpgconf --kill gpg-agent 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        say "kept $W"
    else
        rm -rf "$W"
    fi
    exit "$status"
}

# Starts a background process whose PID the cleanup kills.
start_bg() {
    local name=$1
    shift
    "$@" >>"$W/logs/$name.log" 2>&1 </dev/null &
    PIDS+=($!)
    echo $! >"$W/pids/$name"
}

# Waits up to $2 seconds for a TCP port to accept connections.
# Waits up to $3 seconds for a TCP port to accept connections; gives up at once if the server
# named by $4 (a PID file in $W/pids) has died.
wait_port() {
    local host=$1 port=$2 seconds=${3:-15} name=${4:-} i
    for ((i = 0; i < seconds * 10; i++)); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
        if [ -n "$name" ] && ! kill -0 "$(cat "$W/pids/$name")" 2>/dev/null; then return 1; fi
        sleep 0.1
    done
    return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.2/$1") 2>/dev/null; }

# Ports: a random block of free ones, so parallel runs and other services do not collide.
PORT_NAMES=(PROVIDER ADMIN IMAP IMAPS POP3 POP3S SUBMISSION SUBMISSIONS SINK SPY_IMAP SPY_POP3 SPY_SUBMISSION HTTPS_LOOPBACK GLEWLWYD GLEWLWYD_REDIRECT)
allocate_ports() {
    local base i ok
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        # Below the kernel's ephemeral range (ip_local_port_range, 32768 and up by default): there,
        # any process's outgoing connection or port-0 listener (a cargo test's fake server) can
        # take a port between this check and the server's bind, as one run saw.
        base=$((20000 + (RANDOM % 1200) * 10))
        ok=1
        for ((i = 0; i < ${#PORT_NAMES[@]}; i++)); do
            port_free $((base + i)) || { ok=0; break; }
        done
        if [ $ok = 1 ]; then
            for ((i = 0; i < ${#PORT_NAMES[@]}; i++)); do
                printf -v "PORT_${PORT_NAMES[$i]}" '%s' $((base + i))
            done
            return 0
        fi
    done
    die "no block of ${#PORT_NAMES[@]} free ports found"
}

# ---------------------------------------------------------------------------------------------
# Names and secrets of the test world (throwaway, loopback only).

e2e_world() {

    USER_LOGIN=alice@mail.test
    OTHER_ADDRESS=mallory@mail.test
    # Scenario 34: a delegate with Full Access to a shared mailbox.
    DELEGATE_LOGIN=delegate@mail.test
    SHARED_MAILBOX=shared@mail.test
    export E2E_CLIENT_ID=mailtoken-e2e
    # Scenario 26's client, registered with only https://localhost:PORT/ (an organisation-made
    # registration of the kind that sends users to the paste flow).
    export E2E_HTTPS_CLIENT_ID=mailtoken-https
    export E2E_HTTPS_LOOPBACK_PORT=$PORT_HTTPS_LOOPBACK
    export E2E_ROBOT_ID=mailrobot
    export E2E_ROBOT_SECRET=robot-secret-$RANDOM$RANDOM
    export E2E_INTROSPECT_ID=dovecot
    export E2E_INTROSPECT_SECRET=introspect-$RANDOM$RANDOM
    export E2E_PROVIDER_PORT=$PORT_PROVIDER
    export E2E_ADMIN_PORT=$PORT_ADMIN
    export E2E_ISSUER=https://127.0.0.1:$PORT_PROVIDER
    ISSUER=$E2E_ISSUER
    ADMIN=http://127.0.0.1:$PORT_ADMIN
    CA=$W/ca.pem
    export SSL_CERT_FILE=$CA
    export NODE_EXTRA_CA_CERTS=$CA
    export MAILTOKEN_HTTP_TIMEOUT=15
    DEFAULT_TTL=600
    # glewlwyd (start_glewlwyd): its public client has exactly one redirect URI, on a fixed port.
    export E2E_GLEWLWYD=https://127.0.0.1:$PORT_GLEWLWYD
    export E2E_GLEWLWYD_DIR=$W/glewlwyd
    export E2E_GLEWLWYD_CLIENT_ID=mailtoken-glewlwyd
    export E2E_GLEWLWYD_REDIRECT=http://127.0.0.1:$PORT_GLEWLWYD_REDIRECT/
    GLEWLWYD_ISSUER=$E2E_GLEWLWYD/api/oidc
}

# ---------------------------------------------------------------------------------------------
# TLS: a throwaway EC P-256 CA and a server certificate for every loopback name.

make_certificates() {
    local s=$W/secret
    openssl ecparam -name prime256v1 -genkey -noout -out "$s/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$s/ca.key" -sha256 -days 2 -subj "/CN=mailtoken e2e CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$CA" 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out "$s/server.key" 2>/dev/null
    openssl req -new -key "$s/server.key" -subj "/CN=localhost" -out "$s/server.csr" 2>/dev/null
    printf '%s\n' \
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1" \
        "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" >"$s/server.ext"
    openssl x509 -req -in "$s/server.csr" -CA "$CA" -CAkey "$s/ca.key" -CAcreateserial -days 2 \
        -sha256 -extfile "$s/server.ext" -out "$W/server.pem" 2>/dev/null
    # Chromium trusts exactly this key (--ignore-certificate-errors-spki-list), nothing more.
    E2E_SPKI=$(openssl x509 -in "$W/server.pem" -pubkey -noout | openssl pkey -pubin -outform der 2>/dev/null \
        | openssl dgst -sha256 -binary | base64)
    export E2E_SPKI
}

# ---------------------------------------------------------------------------------------------
# Servers.

start_provider() {
    # The delegate of scenario 34 opens the shared mailbox (provider.mjs says how).
    E2E_TLS_CERT=$W/server.pem E2E_TLS_KEY=$W/secret/server.key E2E_ACCESS_TTL=$DEFAULT_TTL \
        E2E_DELEGATES=$DELEGATE_LOGIN=$SHARED_MAILBOX start_bg provider node "$HERE/provider.mjs"
    if ! wait_port 127.0.0.1 "$PORT_PROVIDER" 30 provider || ! wait_port 127.0.0.1 "$PORT_ADMIN" 10 provider; then
        sed 's/^/provider: /' "$W/logs/provider.log" >&2
        die "the provider did not start"
    fi
}

start_sink() {
    mkdir -p "$W/sink"
    E2E_SINK_PORT=$PORT_SINK E2E_SINK_DIR=$W/sink start_bg smtp-sink node "$HERE/smtp-sink.mjs"
    wait_port 127.0.0.1 "$PORT_SINK" 15 smtp-sink || die "the SMTP sink did not start"
}

seed_mailbox() {
    local maildir=$W/mail/$USER_LOGIN/Maildir
    mkdir -p "$maildir/cur" "$maildir/new" "$maildir/tmp"
    printf '%s\r\n' \
        "From: Bob <bob@mail.test>" \
        "To: Alice <$USER_LOGIN>" \
        "Subject: e2e seeded message" \
        "Date: Sun, 22 Nov 2026 06:00:00 +0000" \
        "Message-ID: <seeded@mail.test>" \
        "" \
        "This message was put in the mailbox by the e2e harness." >"$maildir/new/1700000000.M1P1.e2e"
    mkdir -p "$W/mail/$E2E_ROBOT_ID/Maildir/new"
    local shared=$W/mail/$SHARED_MAILBOX/Maildir
    mkdir -p "$shared/cur" "$shared/new" "$shared/tmp"
    printf '%s\r\n' "From: Bob <bob@mail.test>" "To: Sales <$SHARED_MAILBOX>" \
        "Subject: e2e shared mailbox message" "Date: Sun, 22 Nov 2026 06:00:00 +0000" \
        "Message-ID: <shared@mail.test>" "" "For the shared mailbox." >"$shared/new/1700000001.M1P1.e2e"
    chown -R nobody:nogroup "$W/mail"
}

start_dovecot() {
    local d=$W/dovecot
    mkdir -p "$d"
    cat >"$d/oauth2.conf" <<EOF
introspection_mode = post
introspection_url = http://$E2E_INTROSPECT_ID:$E2E_INTROSPECT_SECRET@127.0.0.1:$PORT_ADMIN/token/introspection
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
openid_configuration_url = $ISSUER/.well-known/openid-configuration
EOF
    chmod 600 "$d/oauth2.conf"
    # One instance on 127.0.0.1 and 127.0.0.2. Connections from 127.0.0.1 to 127.0.0.1 count as
    # secured for Dovecot; those to 127.0.0.2 (scenario 8) are treated as remote, so there
    # `ssl = required` really forbids AUTH before STARTTLS.
    cat >"$d/dovecot.conf" <<EOF
instance_name = mailtoken-e2e-$$
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
protocols = imap pop3 submission
listen = 127.0.0.1, 127.0.0.2
hostname = mail.test
postmaster_address = postmaster@mail.test
ssl = required
ssl_cert = <$W/server.pem
ssl_key = <$W/secret/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = xoauth2 oauthbearer
auth_verbose = yes
auth_failure_delay = 0
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/oauth2.conf
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$W/mail/%u
}
service imap-login {
  inet_listener imap {
    port = $PORT_IMAP
  }
  inet_listener imaps {
    port = $PORT_IMAPS
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $PORT_POP3
  }
  inet_listener pop3s {
    port = $PORT_POP3S
    ssl = yes
  }
}
service submission-login {
  inet_listener submission {
    port = $PORT_SUBMISSION
  }
  inet_listener submissions {
    port = $PORT_SUBMISSIONS
    ssl = yes
  }
}
service anvil {
  chroot =
}
submission_relay_host = 127.0.0.1
submission_relay_port = $PORT_SINK
submission_relay_trusted = yes
submission_relay_ssl = no
EOF
    DOVECOT_CONF=$d/dovecot.conf
    dovecot -c "$DOVECOT_CONF" || { cat "$d/dovecot.log" >&2 2>/dev/null; die "dovecot did not start"; }
    local port
    for port in "$PORT_IMAP" "$PORT_IMAPS" "$PORT_POP3" "$PORT_POP3S" "$PORT_SUBMISSION" "$PORT_SUBMISSIONS"; do
        wait_port 127.0.0.1 "$port" 15 || { tail -n 20 "$d/dovecot.log" >&2; die "dovecot is not listening on $port"; }
    done
    # Dovecot delays logins after failures from one IP (2, 4, 8, 15 s); the refusal tests would
    # pay that. Removing the penalty socket right after start switches it off.
    rm -f "$d/run/anvil-auth-penalty"
}

# glewlwyd 2.7.5 (Debian's package), the second OpenID Connect provider (scenarios 36-43): a
# private instance on 127.0.0.1 only, over TLS with the suite's certificate, from its own
# configuration file with its own sqlite database in $W/glewlwyd. The system's configuration
# (/etc/glewlwyd) and database (/var/cache/glewlwyd) are never read or written, and no service is
# started. The database starts as the package's dbconfig-common data makes it (the schema and the
# first administrator, admin/password); glewlwyd.mjs then configures it through the admin API.
start_glewlwyd() {
    local g=$E2E_GLEWLWYD_DIR started
    started=$(date +%s%N)
    mkdir -m 700 "$g"
    sqlite3 "$g/glewlwyd.db" </usr/share/dbconfig-common/data/glewlwyd/install/sqlite3 \
        || die "could not create glewlwyd's database from the package's schema"
    # The key that signs its ID tokens and access tokens (ES256).
    openssl ecparam -name prime256v1 -genkey -noout -out "$g/jwt.key" 2>/dev/null
    openssl ec -in "$g/jwt.key" -pubout -out "$g/jwt.pub" 2>/dev/null
    # The keys of docs/glewlwyd.conf.sample that matter here; the module paths are the package's.
    cat >"$g/glewlwyd.conf" <<EOF
port=$PORT_GLEWLWYD
bind_address="127.0.0.1"
external_url="$E2E_GLEWLWYD"
api_prefix="api"
log_mode="console"
log_level="DEBUG"
cookie_domain="127.0.0.1"
cookie_secure=1
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
login_api_enabled=true
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
use_secure_connection=true
secure_connection_key_file="$W/secret/server.key"
secure_connection_pem_file="$W/server.pem"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "$g/glewlwyd.db"; };
EOF
    start_bg glewlwyd glewlwyd --config-file="$g/glewlwyd.conf"
    if ! wait_port 127.0.0.1 "$PORT_GLEWLWYD" 15 glewlwyd; then
        tail -n 20 "$W/logs/glewlwyd.log" | sed 's/^/glewlwyd: /' >&2
        die "glewlwyd did not start"
    fi
    node "$HERE/glewlwyd.mjs" configure >>"$W/logs/glewlwyd-setup.log" 2>&1 \
        || { cat "$W/logs/glewlwyd-setup.log" >&2; die "glewlwyd could not be configured"; }
    say "glewlwyd up and configured in $((($(date +%s%N) - started) / 1000000)) ms"
}

start_spies() {
    E2E_SPY_DIR=$W/spy start_bg tcp-spy node "$HERE/tcp-spy.mjs" \
        "imap:127.0.0.2:$PORT_SPY_IMAP:127.0.0.2:$PORT_IMAP" \
        "pop3:127.0.0.2:$PORT_SPY_POP3:127.0.0.2:$PORT_POP3" \
        "submission:127.0.0.2:$PORT_SPY_SUBMISSION:127.0.0.2:$PORT_SUBMISSION"
    wait_port 127.0.0.2 "$PORT_SPY_SUBMISSION" 15 tcp-spy || die "the TCP spy did not start"
}


# Everything up to running servers: packages, the binary, the work directory, ports, certificates,
# the provider, the SMTP sink and Dovecot with a seeded mailbox.
e2e_setup() {
    install_missing
    build_mailtoken
    e2e_workdir
    allocate_ports
    e2e_world
    make_certificates
    start_provider
    start_sink
    seed_mailbox
    start_dovecot
}
