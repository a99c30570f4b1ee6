#!/bin/sh
# $BROWSER for the glewlwyd scenarios: the headless user of glewlwyd.mjs signs $E2E_LOGIN in from
# mailtoken's start page. Started in the background, as browser.sh starts Chromium (mailtoken may
# wait for the browser command to exit before it serves the redirect); its PID goes to
# $E2E_PIDS_DIR so the harness stops it even if it hangs.
set -eu
log=${E2E_BROWSER_LOG:-/dev/null}
echo "glewlwyd-browser.sh: called with $# argument(s)" >>"$log"
nohup node "$(dirname "$0")/glewlwyd.mjs" browser "$1" >>"$log" 2>&1 </dev/null &
if [ -n "${E2E_PIDS_DIR:-}" ]; then echo $! >"$E2E_PIDS_DIR/browser.$!"; fi
exit 0
