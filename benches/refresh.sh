#!/usr/bin/env bash
# A refresh against curl's token request, side by side in one run (issue 37, item 7).
#
#   benches/refresh.sh   prints both means and the difference; exits 1 when mailtoken's refresh
#                        costs more than 4 ms beyond curl's request
#
# Both send a refresh_token grant to the same token endpoint on loopback (plain http, as the
# end-to-end suite's provider is reached, RFC 8252 section 8.3), a stub that answers every
# request at once with the same Microsoft-sized token, so the server's time is alike for both and
# no refresh token is spent (a rotating provider would refuse curl's second request). What the
# difference holds is mailtoken's own work: start-up, reading and decrypting the file, the lock,
# the room for the write, the request, encrypting, reading the new file back and writing it
# (fsynced), in the fixture of benches/cached.sh. Needs hyperfine and curl (installs them as root).
# With BEFORE=BINARY (another build of mailtoken, say main's) that binary's refresh is timed in
# the same run too, to show what a change did.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/setup.sh

max_extra_ms=4
bench_needs benches/refresh.sh hyperfine curl
bench_fixture

# The token endpoint: one answer for every POST, on a free loopback port it names in a file.
python3 - "$work/port" <<'PY' &
import http.server, json, sys
answer = json.dumps({"access_token": "E" * 2500, "token_type": "Bearer", "expires_in": 3600,
                     "refresh_token": "R" * 1200}).encode()
class Endpoint(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
open(sys.argv[1], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
background_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
endpoint=http://127.0.0.1:$(cat "$work/port")/token

# Both must get the token before they are timed.
refresh=("$binary" --force-refresh --token-endpoint "$endpoint" "$token")
[ "$("${refresh[@]}" | wc -c)" -eq 2501 ] || { echo "mailtoken did not refresh" >&2; exit 1; }
form="grant_type=refresh_token&refresh_token=$(printf 'R%.0s' $(seq 1200))&client_id=08162f7c-0fd2-4200-a84a-f25a4db0b584"
curl_request=(curl -sS --fail -d "$form" "$endpoint")
"${curl_request[@]}" | grep -q access_token || { echo "curl got no token" >&2; exit 1; }

printf '%s\n' "$form" > "$work/form"
before=()
if [ -n "${BEFORE:-}" ]; then
    install -m 755 "$BEFORE" "$work/before"
    before=(-n before "$work/before ${refresh[*]:1}")
fi
hyperfine --warmup 10 --runs "${RUNS:-300}" -N --style basic --export-json "$work/times.json" \
    -n curl "curl -sS --fail -d @$work/form $endpoint" \
    -n mailtoken "${refresh[*]}" "${before[@]}" >&2

python3 - "$work/times.json" "$max_extra_ms" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
curl, ours = results["curl"]["mean"] * 1000, results["mailtoken"]["mean"] * 1000
extra, limit = ours - curl, float(sys.argv[2])
print(f"curl's token request:  {curl:.2f} ms mean")
print(f"mailtoken's refresh:   {ours:.2f} ms mean")
print(f"the refresh costs {extra:.2f} ms more than curl's request (at most {limit:g}): "
      f"{'ok' if extra <= limit else 'MISSED'}")
if "before" in results:
    before = results["before"]["mean"] * 1000
    print(f"BEFORE's refresh:      {before:.2f} ms mean, {before - curl:.2f} ms more than curl's")
sys.exit(0 if extra <= limit else 1)
PY
