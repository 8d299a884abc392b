#!/usr/bin/env bash
# Read benchmark (not a test): an authenticated, reach-checked read — a sales rep's GET of one of their parties
# (`/api/v1/masterdata/parties/{id}`: bearer token, the rep's roles and sectors, the row, its bindings) — on SQLite
# and on PostgreSQL, each against GET /healthz in the same run. wrk on the same 2-core machine.
# Goals: PostgreSQL >= 10,000 requests/s at 64 connections; SQLite >= 0.8 x /healthz.
#   tests/bench/read_bench.sh [BUILD_DIR] [CONNECTIONS=64] [SECONDS=15]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
connections=${2:-64}
seconds=${3:-15}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-bench.XXXXXX)
chmod 755 "$work"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  "$root/tests/support/pg_down.sh" "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

rate() {  # URL [HEADER] → requests/s
  wrk -t2 -c"$connections" -d"${seconds}s" --latency ${2:+-H "$2"} "$1" >"$work/wrk"
  if grep -qE "Non-2xx|Socket errors" "$work/wrk"; then grep -E "Non-2xx|Socket errors" "$work/wrk" >&2; fi
  echo "$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk") $(awk '$1 == "99%" {print $2}' "$work/wrk")"
}

run_backend() {  # NAME [DATABASE_URL]
  local name=$1 url_flag=() data="$work/$1"
  mkdir -p "$data"
  [ -n "${2:-}" ] && url_flag=(--database-url "$2")
  local ctl=("$build/bin/annexctl" --data-dir "$data" "${url_flag[@]}")
  "${ctl[@]}" user create rep --role sales-rep --sector north >/dev/null
  local token
  token=$("${ctl[@]}" token create rep 2>/dev/null)
  "$build/bin/annexd" --data-dir "$data" "${url_flag[@]}" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
    --log-level warn --set http.threads=$((connections + 32)) >"$data/out" 2>"$data/err" &
  pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$data/out" 2>/dev/null && break; sleep 0.05; done
  local url
  url=$(sed -n 's/^annexd listening on //p' "$data/out")
  [ -n "$url" ] || { cat "$data/err" >&2; exit 1; }
  local auth="Authorization: Bearer $token" id
  id=$(curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' -d '{"code":"C-1","name":"Bench customer"}' \
       "$url/api/v1/masterdata/parties" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  curl -sf -H "$auth" "$url/api/v1/masterdata/parties/$id" >/dev/null
  read -r health health_p99 <<<"$(rate "$url/healthz")"
  read -r party party_p99 <<<"$(rate "$url/api/v1/masterdata/parties/$id" "$auth")"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  awk -v n="$name" -v h="$health" -v hp="$health_p99" -v r="$party" -v rp="$party_p99" \
    'BEGIN { printf "%-10s  /healthz %9.0f/s (p99 %s)   party read %9.0f/s (p99 %s)   ratio %.2f\n", n, h, hp, r, rp, r / h }'
}

echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores, $connections connections, ${seconds}s each"
run_backend sqlite
"$root/tests/support/pg_up.sh" "$work/pg" >/dev/null
run_backend postgresql "$(cat "$work/pg/url")"
