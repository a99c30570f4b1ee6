#!/bin/sh
# $BROWSER for scenario 1. mailtoken may wait for the browser command to exit before it serves the
# redirect, so this starts the Chromium driver in the background and returns at once. The driver's
# PID goes to $E2E_PIDS_DIR so the harness stops it even if it hangs.
set -eu
log=${E2E_BROWSER_LOG:-/dev/null}
echo "browser.sh: called with $# argument(s)" >>"$log"
nohup node "$(dirname "$0")/browser.mjs" "$1" >>"$log" 2>&1 </dev/null &
if [ -n "${E2E_PIDS_DIR:-}" ]; then echo $! >"$E2E_PIDS_DIR/browser.$!"; fi
exit 0
