#!/usr/bin/env bash
# The approvals inbox's first screen with 10,000 pending approvals (issue goal: usable in under 1 s on loopback):
# a fresh store with the demo company, annexd serving the web application, PENDING cash advances awaiting finance,
# then liu.finance's inbox opened RUNS times in Chromium. Usage: inbox_bench.sh [BUILD_DIR] [PENDING] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
dir=$(mktemp -d /tmp/annex-inbox.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
"$build/bin/annexctl" --data-dir "$dir/data" demo load >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$build/bin/annexd" --data-dir "$dir/data" --listen "127.0.0.1:$port" --set http.ui_dir="$build/share/annex/ui" >"$dir/annexd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
node "$root/tests/bench/inbox_bench.mjs" "http://127.0.0.1:$port" "${2:-10000}" "${3:-7}"
echo "annexd peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
