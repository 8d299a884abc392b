#!/usr/bin/env bash
# The web application's browser tests, as its users meet it: a fresh store filled with the demo company, annexd
# serving the built application on a free loopback port, and web/tests/run.mjs driving Debian's Chromium against
# it (the demo's li.rep submits, liu.finance decides, wang.head is the delegate). Screenshots go to ANNEX_SCREENSHOTS when it is set.
# Usage: [ANNEX_WEB_FILTER=TEXT] browser_tests.sh BUILD_DIR   (the filter runs only the tests whose name holds TEXT)
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/annex-browser.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
"$build/bin/annexctl" --data-dir "$dir/data" demo load >"$dir/demo.log" 2>&1 || { cat "$dir/demo.log"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$build/bin/annexd" --data-dir "$dir/data" --listen "127.0.0.1:$port" --set http.ui_dir="$build/share/annex/ui" >"$dir/annexd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
status=0
ANNEX_URL="http://127.0.0.1:$port" \
ANNEX_APPROVER_LOGIN=liu.finance ANNEX_APPROVER_PASSWORD="annex demo 2026" \
ANNEX_SUBMITTER_LOGIN=li.rep ANNEX_SUBMITTER_PASSWORD="annex demo 2026" \
ANNEX_DELEGATE_LOGIN=wang.head ANNEX_DELEGATE_PASSWORD="annex demo 2026" \
  node "$root/web/tests/run.mjs" ${ANNEX_WEB_FILTER:-} || status=$?
if [ "$status" != 0 ]; then
  echo "--- annexd log (last 40 lines)"
  tail -n 40 "$dir/annexd.log"
fi
exit "$status"
