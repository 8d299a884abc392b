#!/usr/bin/env bash
# Cluster benchmark (not a test): the sales API through HAProxy with one, two and three annexd on one PostgreSQL
# (the reference deployment, deploy/cluster_up.sh), each on a fresh database with 20,000 opportunities.
# For each size, wrk measures flat out at C connections (default 32) for S seconds (default 15):
#   read   GET /api/v1/pipeline/opportunities?status=open&limit=50 as a rep
#   write  POST /api/v1/pipeline/opportunities as that rep (validated, stored, audited)
# and the CPU time each part used meanwhile is read from /proc (utime + stime): PostgreSQL (the postmaster and
# every backend), the annexd processes, HAProxy and wrk itself. "pg ms/req" is PostgreSQL's CPU per request,
# "pg share" its part of all the CPU the run used.
#   tests/bench/cluster_bench.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
seconds=${2:-15}
connections=${3:-32}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "haproxy is needed: scripts/deps.sh test" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-cluster-bench.XXXXXX)
cleanup() {
  for c in "$work"/c*; do [ -d "$c" ] && "$root/deploy/cluster_down.sh" "$c" >/dev/null 2>&1; done
  "$root/tests/support/pg_down.sh" "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$root/tests/support/pg_up.sh" "$work/pg" >/dev/null
pg=$(cat "$work/pg/url")
[[ "$pg" =~ ^postgresql://([^@]+)@([^:/]+):([0-9]+)/ ]]
user=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]}
postmaster=$(head -1 "$(cat "$work/pg/pgdata_dir")/postmaster.pid")
hz=$(getconf CLK_TCK)

# CPU ticks (user + system) of the given processes, and of PostgreSQL's postmaster and backends.
ticks() { local t=0; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
pg_ticks() { ticks "$postmaster" $(pgrep -P "$postmaster" || true); }

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.format(
    '{"name": "Bench deal %d", "party_id": "%s", "amount": {"amount": %d, "currency": "CNY"}, "expected_close": "2027-03-15"}',
    counter, os.getenv("PARTY"), 100000 + counter))
end
LUA

printf '%-8s %-6s %10s %9s %11s %9s %11s %9s\n' daemons kind "req/s" "p99 ms" "pg ms/req" "pg share" "annexd ms" "other ms"
for n in 1 2 3; do
  db=bench_$n
  createdb -h "$host" -p "$port" -U "$user" "$db"
  state="$work/c$n"
  "$root/deploy/cluster_up.sh" "$state" "$n" --database-url "postgresql://$user@$host:$port/$db" --build "$build" -- \
    --log-level warn --set http.threads=48 --set database.pool_size=16 >/dev/null
  front=$(cat "$state/url")
  ctl() { "$build/bin/annexctl" --database-url "postgresql://$user@$host:$port/$db" --data-dir "$state/d1/data" "$@"; }
  ctl user create boss --role system-admin --sector s3 >/dev/null 2>&1
  ctl user create rep --role sales-rep --sector s3 >/dev/null 2>&1
  boss=$(ctl token create boss 2>/dev/null | grep -o 'annex_pat_[^ ]*' | head -1)
  rep=$(ctl token create rep 2>/dev/null | grep -o 'annex_pat_[^ ]*' | head -1)
  rep_id=$(curl -sf -H "Authorization: Bearer $rep" "$front/api/v1/auth/me" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  party=$(curl -sf -H "Authorization: Bearer $boss" -H 'Content-Type: application/json' "$front/api/v1/masterdata/parties" \
    -d "{\"code\": \"C1\", \"name\": \"Northwind\", \"sector_id\": \"s3\", \"owner_id\": \"$rep_id\"}" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  # 20,000 opportunities in ten sectors, one in fifty the rep's.
  psql -q -h "$host" -p "$port" -U "$user" -d "$db" <<SQL
INSERT INTO pipeline_opportunities (id, name, party_id, lead_id, sector_id, owner_id, amount, currency, expected_close, stage,
  probability, probability_set, forecast_category, status, lost_reason, closed_on, last_activity_on, created_at, updated_at, version)
SELECT 'op_' || lpad(i::text, 24, '0'), 'Opportunity ' || i, '$party', NULL, 's' || (i % 10),
  CASE WHEN i % 50 = 3 THEN '$rep_id' ELSE 'u_rep_' || (i % 500) END, 100000 + i, 'CNY', '2027-01-01',
  'proposal', 50, 0, 'best_case', 'open', NULL, NULL, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1
FROM generate_series(1, 20000) i;
ANALYZE pipeline_opportunities;
SQL
  daemons=$(for i in $(seq 1 "$n"); do cat "$state/d$i/pid"; done)
  haproxy_pid=$(cat "$state/haproxy.pid")
  for kind in read write; do
    if [ "$kind" = read ]; then
      args=("$front/api/v1/pipeline/opportunities?status=open&limit=50")
    else
      args=(-s "$work/post.lua" "$front/api/v1/pipeline/opportunities")
    fi
    pg0=$(pg_ticks); d0=$(ticks $daemons); o0=$(ticks "$haproxy_pid")
    PARTY=$party wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $rep" "${args[@]}" >"$work/wrk" &
    wrk_pid=$!
    w=0
    while kill -0 "$wrk_pid" 2>/dev/null; do w=$(ticks "$wrk_pid" || echo "$w"); sleep 0.5; done
    wait "$wrk_pid"
    pg1=$(pg_ticks); d1=$(ticks $daemons); o1=$(ticks "$haproxy_pid")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk")
    [ -n "$errors" ] && echo "  ($n daemons, $kind: $errors)" >&2
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; printf "%.1f", v}' "$work/wrk")
    awk -v n="$n" -v kind="$kind" -v rps="$rps" -v p99="$p99" -v req="$requests" -v hz="$hz" \
      -v pg=$((pg1 - pg0)) -v d=$((d1 - d0)) -v o=$(( (o1 - o0) + w )) 'BEGIN {
        ms = 1000 / hz; total = pg + d + o;
        printf "%-8s %-6s %10s %9s %11.2f %8.0f%% %11.2f %9.2f\n", n, kind, rps, p99, pg * ms / req, 100 * pg / total, d * ms / req, o * ms / req }'
  done
  "$root/deploy/cluster_down.sh" "$state" >/dev/null 2>&1
done
echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores, wrk and HAProxy on the same machine; 'other ms' is HAProxy and wrk"
