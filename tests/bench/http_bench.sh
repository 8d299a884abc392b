#!/usr/bin/env bash
# HTTP benchmark (not a test): annexd on SQLite with the hello plugin; wrk drives GET of a route that reads one
# row from the database. Goal on a 2-core machine with wrk on the same machine: >= 20,000 requests/s, p99 <= 5 ms.
#   tests/bench/http_bench.sh [BUILD_DIR] [CONNECTIONS=64] [SECONDS=20]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
connections=${2:-64}
seconds=${3:-20}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Every route but the health checks needs a token: make an administrator and one for it, as an operator would.
"$build/bin/annexctl" --data-dir "$work" user create bench --role system-admin --sector hq >/dev/null
token=$("$build/bin/annexctl" --data-dir "$work" token create bench 2>/dev/null)
auth="Authorization: Bearer $token"

"$build/bin/annexd" --data-dir "$work" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
  --log-level warn --set http.threads=$((connections + 32)) >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^annexd listening on //p' "$work/out")
[ -n "$url" ] || { cat "$work/err" >&2; exit 1; }

id=$(curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$url/api/v1/hello/greetings" \
     | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
target="$url/api/v1/hello/greetings/$id"
curl -sf -H "$auth" "$target" >/dev/null

echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; GET $target"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "$auth" "$target" | tee "$work/wrk"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk" || true)
to_ms() { case "$1" in *us) echo "${1%us}" | awk '{print $1/1000}';; *ms) echo "${1%ms}";; *s) echo "${1%s}" | awk '{print $1*1000}';; esac; }
p99_ms=$(to_ms "$p99")
verdict=$(awk -v r="$rps" -v p="$p99_ms" 'BEGIN { print (r >= 20000 && p <= 5) ? "meets" : "misses" }')
echo
echo "result: ${rps} requests/s, p99 ${p99_ms} ms at ${connections} connections — ${verdict} the goal (>= 20000/s, p99 <= 5 ms)"
[ -z "$errors" ] || echo "errors: $errors"
