#!/usr/bin/env bash
# Expenses benchmark (not a test): annexd on SQLite with N claim lines already stored (default 1,000,000: 200,000
# approved claims of 5 lines across 500 reps and 20 cost centres).
#  1. Claims: at C connections (default 32) REPS reps (default 32; 1 is the worst case, since one person's
#     submissions run one at a time and every rolling limit counts that person's lines) submit 5-line claims with
#     policy evaluation and the approval chain: STEPS=1 (default) drafts and submits each in one request
#     ("submit": true), STEPS=2 drafts it, then submits the draft (policies evaluated on both; claims/s =
#     requests/s ÷ 2).
#  2. Decisions: the sector head approves the claims just submitted, each with its audit entry; the rate is the
#     decisions over the time until the last (each wrk thread stops when its share is decided).
#  3. One month's spend per cost centre, asked R times as finance (median).
# Goals on a 2-core machine with wrk on the same machine: >= 2,000 claims/s with p99 <= 20 ms; >= 2,000
# decisions/s; the report <= 200 ms.
#   [REPS=32] [STEPS=1] tests/bench/expenses_bench.sh [BUILD_DIR] [N] [CONNECTIONS] [SECONDS] [R]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
connections=${3:-32}
seconds=${4:-20}
rounds=${5:-21}
reps=${REPS:-32}
steps=${STEPS:-1}
case "$steps" in 1) submit_field=',"submit":true' ;; 2) submit_field='' ;; *) echo "STEPS is 1 or 2" >&2; exit 1 ;; esac
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed: apt-get install sqlite3" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/annex-expenses-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/annex.json" <<'JSON'
{"approvals": {"chains": {
   "expense-claim": {"steps": [{"name": "head", "permission": "expenses.claim.approve"},
                              {"name": "finance", "role": "finance", "scope": "any", "min_amount": 10000000, "currency": "CNY"}]},
   "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
 "plugins": {"org.annex.expenses": {"categories": {
   "meals": {"gl_account": "6604", "receipt_above": 1000000, "limits": {"line": 500000, "day": 2000000, "month": 90000000000, "year": 900000000000}},
   "taxi": {"gl_account": "6606", "limits": {"day": 5000000}, "weekend": "ok"},
   "travel": {"gl_account": "6602", "receipt_above": 1000000}}}}}
JSON
export ANNEX_CONFIG="$work/annex.json"
ctl() { "$build/bin/annexctl" --data-dir "$work/data" "$@"; }
start() {
  "$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
    --log-level warn --set http.threads=$((connections + 16)) >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^annexd listening on //p' "$work/out")
  [ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

ctl user create rep --role sales-rep --sector s3 >/dev/null
for r in $(seq 2 "$reps"); do ctl user create "rep$r" --role sales-rep --sector s3 >/dev/null; done
ctl user create head --role sector-head --sector s3 >/dev/null
ctl user create fin --role finance >/dev/null
ctl user create admin --role system-admin >/dev/null
admin_token=$(ctl token create admin 2>/dev/null)
rep_token=$(ctl token create rep 2>/dev/null)
head_token=$(ctl token create head 2>/dev/null)
fin_token=$(ctl token create fin 2>/dev/null)
start  # creates the plugin's tables
me() { curl -sf -H "Authorization: Bearer $1" "$url/api/v1/auth/me" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'; }
rep_id=$(me "$rep_token")
echo "$rep_id $rep_token" >"$work/reps"
for r in $(seq 2 "$reps"); do t=$(ctl token create "rep$r" 2>/dev/null); echo "$(me "$t") $t" >>"$work/reps"; done
stop

claims=$((n / 5))
echo "loading $n claim lines ($claims approved claims; 500 reps, 20 cost centres; rep $rep_id is rep 150)"
sqlite3 "$work/data/annex.db" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $claims)
INSERT INTO expenses_claims (id, claimant_id, sector_id, purpose, status, currency, total, sanctioned, settled_advances,
  reimbursable, submitted_at, decided_at, created_at, updated_at, version)
SELECT printf('ec_%012x%012d', 1700000000000 + i, i),
  CASE WHEN i % 500 = 150 THEN '$rep_id' ELSE 'u_rep_' || (i % 500) END, 's' || ((i % 500) / 50), 'travel', 'approved', 'CNY',
  50000, 50000, 0, 50000, '2026-10-01T00:00:00.000Z', '2026-10-02T00:00:00.000Z', '2026-10-01T00:00:00.000Z',
  '2026-10-02T00:00:00.000Z', 2
FROM g;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $n)
INSERT INTO expenses_lines (claim_id, line_no, claimant_id, spent_on, category, merchant, amount, currency, company_amount,
  sanctioned, cost_centre, gl_account, policy, counted, claim_status, sector_id)
SELECT printf('ec_%012x%012d', 1700000000000 + i / 5, i / 5), i % 5 + 1,
  CASE WHEN (i / 5) % 500 = 150 THEN '$rep_id' ELSE 'u_rep_' || ((i / 5) % 500) END,
  date('2026-01-01', '+' || ((i / 5) % 330) || ' days'), CASE i % 3 WHEN 0 THEN 'meals' WHEN 1 THEN 'taxi' ELSE 'travel' END,
  'Shop', 10000, 'CNY', 10000, 10000, 'CC' || (i % 20), '6602', '{"outcome":"ok","results":[]}', 1, 'approved',
  's' || (((i / 5) % 500) / 50)
FROM g;
INSERT INTO expenses_claimed_days (claimant_id, category, spent_on, sanctioned)
SELECT claimant_id, category, spent_on, SUM(sanctioned) FROM expenses_lines WHERE counted = 1 GROUP BY claimant_id, category, spent_on;
INSERT INTO expenses_related_days (claimant_id, submitted_on, purpose, party_id, claims, total)
SELECT claimant_id, substr(submitted_at, 1, 10), purpose, '', COUNT(*), SUM(total) FROM expenses_claims
GROUP BY claimant_id, substr(submitted_at, 1, 10), purpose;
COMMIT;
ANALYZE;
SQL
start
for c in $(seq 0 19); do
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $admin_token" -H "Content-Type: application/json" \
    -d "{\"code\": \"CC$c\", \"name\": \"Cost centre $c\"}" "$url/api/v1/masterdata/cost_centres"
done

# 1. Claims: the reps take turns. STEPS=1: each request drafts and submits a claim. STEPS=2: each thread alternates
# a draft and the submission of a claim drafted before, by the same rep.
cat >"$work/claims.lua" <<LUA
local reps, token_of = {}, {}
for line in io.lines("$work/reps") do
  local id, token = string.match(line, "(%S+) (%S+)")
  reps[#reps + 1] = token
  token_of[id] = token
end
local queue, turn = {}, 0
local body = '{"purpose":"travel","lines":['
for i = 1, 5 do
  body = body .. (i > 1 and "," or "") .. string.format(
    '{"date":"2026-11-%02d","category":"%s","merchant":"Shop %d","amount":{"amount":%d,"currency":"CNY"},"cost_centre":"CC%d","justification":"visiting a customer"}',
    10 + i, (i % 3 == 0) and "meals" or ((i % 3 == 1) and "taxi" or "travel"), i, 1000 + i, i)
end
body = body .. ']$submit_field}'
request = function()
  if #queue > 0 then
    local item = table.remove(queue, 1)
    return wrk.format("POST", "/api/v1/expenses/claims/" .. item.id .. "/submit",
                      {["Authorization"] = "Bearer " .. item.token, ["Content-Length"] = "0"}, "")
  end
  turn = turn % #reps + 1
  return wrk.format("POST", "/api/v1/expenses/claims",
                    {["Authorization"] = "Bearer " .. reps[turn], ["Content-Type"] = "application/json"}, body)
end
local told = false
response = function(status, headers, body)
  if status >= 300 and not told then
    told = true
    io.stderr:write("first refusal: " .. status .. " " .. body .. "\n")
  end
  if status == 201 and string.find(body, '"status":"draft"', 1, true) then
    local id = string.match(body, '"id":"(ec_[^"]+)"')
    local claimant = string.match(body, '"claimant_id":"([^"]+)"')
    if id and token_of[claimant] then table.insert(queue, {id = id, token = token_of[claimant]}) end
  end
end
LUA
# One claim by hand first: the run is worth nothing if the requests it repeats are refused.
probe=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $rep_token" -H "Content-Type: application/json" \
  -d '{"purpose":"travel","lines":[{"date":"2026-11-11","category":"taxi","merchant":"Shop 1","amount":{"amount":1001,"currency":"CNY"},"cost_centre":"CC1"}]}' \
  "$url/api/v1/expenses/claims")
[ "$(echo "$probe" | tail -1)" = 201 ] || { echo "a claim is refused: $probe" >&2; exit 1; }
echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; claims drafted and submitted by $reps reps"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/claims.lua" "$url" | tee "$work/claims"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/claims")
p99=$(awk '$1 == "99%" {print $2}' "$work/claims")
to_ms() { case "$1" in *us) echo "${1%us}" | awk '{print $1/1000}';; *ms) echo "${1%ms}";; *s) echo "${1%s}" | awk '{print $1*1000}';; esac; }
p99_ms=$(to_ms "$p99")
claims_per_s=$(awk -v r="$rps" -v s="$steps" 'BEGIN {printf "%.0f", r / s}')
submitted=$(sqlite3 "$work/data/annex.db" "SELECT COUNT(*) FROM expenses_claims WHERE status = 'submitted'")
echo "submitted: $submitted claims"

# 2. Decisions: the head approves what was submitted, each connection taking the next approval of its thread.
sqlite3 "$work/data/annex.db" "SELECT approval_id FROM expenses_claims WHERE status = 'submitted'" >"$work/approvals"
cat >"$work/decide.lua" <<LUA
local ids = {}
for line in io.lines("$work/approvals") do ids[#ids + 1] = line end
local next_index, step = 1, 1
setup = function(thread) end
init = function(args)
  next_index = tonumber(wrk.thread:get("first") or 1)
end
request = function()
  local id = ids[next_index]
  next_index = next_index + 2
  if id == nil then return wrk.format("GET", "/healthz") end
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/approvals/" .. id .. "/decisions", h, '{"decision":"approve"}')
end
local told = false
response = function(status, headers, body)
  if status >= 300 and not told then
    told = true
    io.stderr:write("first refused decision: " .. status .. " " .. body .. "\n")
  end
end
LUA
cat >"$work/decide-setup.lua" <<LUA
local t = 0
setup = function(thread) t = t + 1; thread:set("first", t) end
LUA
cat "$work/decide-setup.lua" "$work/decide.lua" | sed '/^setup = function(thread) end$/d' >"$work/decide-all.lua"
# Timed from the start until every submitted claim is decided (wrk is stopped then).
decided() { sqlite3 "$work/data/annex.db" "SELECT COUNT(*) FROM annex_approval_decisions" 2>/dev/null || echo 0; }
started=$(date +%s.%N)
wrk -t2 -c"$connections" -d60s --latency -s "$work/decide-all.lua" -H "Authorization: Bearer $head_token" "$url" >"$work/decide" &
wrk_pid=$!
# Until all are decided, or none more for 2 s (some refused: the first refusal is printed): timed to the last.
finished=$started last=0 still=0
while kill -0 "$wrk_pid" 2>/dev/null; do
  now_decided=$(decided)
  if [ "$now_decided" -gt "$last" ]; then last=$now_decided finished=$(date +%s.%N) still=0; else still=$((still + 1)); fi
  [ "$now_decided" -ge "$submitted" ] || [ "$still" -ge 40 ] && break
  sleep 0.05
done
kill "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
decisions=$(decided)
span=$(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.2f", b - a}')
dps=$(awk -v d="$decisions" -v s="$span" 'BEGIN {printf "%.0f", (s > 0 ? d / s : 0)}')

# 3. A month's spend per cost centre.
report="$url/api/v1/expenses/reports/spend?from=2026-10-01&to=2026-10-31&group_by=cost_centre"
curl -sf -H "Authorization: Bearer $fin_token" "$report" | head -c 300; echo
for _ in $(seq 1 "$rounds"); do
  curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $fin_token" "$report"
done | sort -n > "$work/times"
median_ms=$(awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}' "$work/times")

echo
for f in claims decide; do
  if grep -q "Non-2xx" "$work/$f"; then echo "$f: $(grep "Non-2xx" "$work/$f" | tr -s ' ') — the figures below count refusals too"; fi
done
claims_verdict=$(awk -v r="$claims_per_s" -v p="$p99_ms" 'BEGIN { print (r >= 2000 && p <= 20) ? "meets" : "misses" }')
decisions_verdict=$(awk -v r="$dps" 'BEGIN { print (r >= 2000) ? "meets" : "misses" }')
report_verdict=$(awk -v m="$median_ms" 'BEGIN { print (m <= 200) ? "meets" : "misses" }')
echo "claims: ${claims_per_s} claims/s (${rps} requests/s) at ${connections} connections, p99 ${p99_ms} ms — ${claims_verdict} the goal (>= 2000/s, p99 <= 20 ms)"
echo "decisions: ${decisions} in ${span} s, ${dps}/s — ${decisions_verdict} the goal (>= 2000/s)"
echo "report: a month's spend per cost centre over $n lines, median ${median_ms} ms of ${rounds} — ${report_verdict} the goal (<= 200 ms)"
