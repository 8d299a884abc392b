#!/usr/bin/env bash
# Pipeline benchmark (not a test): annexd on SQLite with N opportunities (default 1,000,000) across 10 sectors and
# 500 reps. wrk lists one rep's first 50 open opportunities at C connections (default 64); then one sector's
# quarterly forecast is asked R times (default 21) and its median taken.
# The list is measured twice: flat out (every connection sends its next request as soon as the last is answered:
# the throughput) and paced at about 5,000 requests/s in all (each connection waits before its next request: the
# latency at that rate, without the queueing a saturated closed loop adds — at 64 connections flat out, the mean
# latency is 64 / throughput whatever the server does).
# Goals on a 2-core machine with wrk on the same machine: >= 5,000 requests/s with p99 <= 10 ms; forecast median
# <= 50 ms.
#   tests/bench/pipeline_bench.sh [BUILD_DIR] [N] [CONNECTIONS] [SECONDS] [R]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
connections=${3:-64}
seconds=${4:-20}
rounds=${5:-21}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed: apt-get install sqlite3" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-pipeline-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ctl() { "$build/bin/annexctl" --data-dir "$work/data" "$@"; }
start() {
  "$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
    --log-level warn --set http.threads=$((connections + 32)) >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^annexd listening on //p' "$work/out")
  [ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# The measured rep (sector s3) and the head of that sector are real users; the other reps are owner ids only.
ctl user create rep --role sales-rep --sector s3 >/dev/null
ctl user create head --role sector-head --sector s3 >/dev/null
rep_token=$(ctl token create rep 2>/dev/null)
head_token=$(ctl token create head 2>/dev/null)
start  # creates the plugins' tables
rep_id=$(curl -sf -H "Authorization: Bearer $rep_token" "$url/api/v1/auth/me" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
stop

echo "loading $n opportunities (10 sectors, 500 reps; rep $rep_id is rep 150, in s3)"
# Rep r (0..499) is in sector s(r / 50); three in four opportunities are open; closes spread over two years;
# amounts in CNY but one in ten in USD.
sqlite3 "$work/data/annex.db" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $n)
INSERT INTO pipeline_opportunities (id, name, party_id, lead_id, sector_id, owner_id, amount, currency, expected_close, stage,
  probability, probability_set, forecast_category, status, lost_reason, closed_on, last_activity_on, created_at, updated_at, version)
SELECT printf('op_%012x%012d', 1700000000000 + i, i), 'Opportunity ' || i, 'md_customer_' || (i % 20000), NULL,
  's' || ((i % 500) / 50),
  CASE WHEN i % 500 = 150 THEN '$rep_id' ELSE 'u_rep_' || (i % 500) END,
  100000 + (i * 7919) % 9900000, CASE WHEN i % 10 = 9 THEN 'USD' ELSE 'CNY' END,
  date('2027-01-01', '+' || (i % 730) || ' days'),
  CASE i % 4 WHEN 0 THEN 'prospecting' WHEN 1 THEN 'proposal' WHEN 2 THEN 'negotiation' ELSE 'won' END,
  CASE i % 4 WHEN 0 THEN 10 WHEN 1 THEN 50 WHEN 2 THEN 75 ELSE 100 END, 0,
  CASE i % 4 WHEN 0 THEN 'pipeline' WHEN 1 THEN 'best_case' WHEN 2 THEN 'commit' ELSE 'closed' END,
  CASE WHEN i % 4 = 3 THEN 'won' ELSE 'open' END, NULL, NULL, NULL,
  '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1
FROM g;
COMMIT;
ANALYZE;
SQL
start
list="$url/api/v1/pipeline/opportunities?status=open&limit=50"
count=$(curl -sf -H "Authorization: Bearer $rep_token" "$list" | grep -o '"id":"op_' | wc -l)
echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; GET $list as the rep ($count items)"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $rep_token" "$list" | tee "$work/wrk"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
# Paced: each connection pauses so that 64 of them send about 5,000 requests/s.
cat >"$work/pace.lua" <<LUA
function delay() return $(( connections * 1000 / 5000 - 2 )) end
LUA
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/pace.lua" -H "Authorization: Bearer $rep_token" "$list" | tee "$work/paced"
paced_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/paced")
paced_p99=$(awk '$1 == "99%" {print $2}' "$work/paced")
errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk" || true)
to_ms() { case "$1" in *us) echo "${1%us}" | awk '{print $1/1000}';; *ms) echo "${1%ms}";; *s) echo "${1%s}" | awk '{print $1*1000}';; esac; }
p99_ms=$(to_ms "$p99")
paced_p99_ms=$(to_ms "$paced_p99")

forecast="$url/api/v1/pipeline/forecast?from=2027-04-01&to=2027-06-30&group_by=owner"
curl -sf -H "Authorization: Bearer $head_token" "$forecast" | head -c 300; echo
for _ in $(seq 1 "$rounds"); do
  curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $head_token" "$forecast"
done | sort -n > "$work/times"
median_ms=$(awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}' "$work/times")

echo
list_verdict=$(awk -v r="$rps" -v p="$paced_p99_ms" 'BEGIN { print (r >= 5000 && p <= 10) ? "meets" : "misses" }')
forecast_verdict=$(awk -v m="$median_ms" 'BEGIN { print (m <= 50) ? "meets" : "misses" }')
echo "list: ${rps} requests/s flat out at ${connections} connections (p99 ${p99_ms} ms); paced at ${paced_rps}/s, p99 ${paced_p99_ms} ms — ${list_verdict} the goal (>= 5000/s, p99 <= 10 ms)"
echo "forecast: one sector's quarter (~$((n / 10 / 8)) opportunities), median ${median_ms} ms of ${rounds} — ${forecast_verdict} the goal (<= 50 ms)"
[ -z "$errors" ] || echo "errors: $errors"
