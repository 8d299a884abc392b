#!/usr/bin/env bash
# Relationship-fee statements benchmark (not a test): annexd on SQLite with a year of contracts already stored —
# by default 500 reps (10 sectors) with 200 customers each (100,000 parties), 200,000 signed contracts of 5 lines
# (1,000,000 lines) signed from 2025-12-01 to 2026-11-30 (1/12 of them in November), a tenth with the credit split
# 60/40 between two reps of a sector, and 500,000 collections (the older half of the contracts collected in full
# in three instalments, the newer half 70 % in two; 1 % of them reversed a week later). The months before November
# are as their drafting left them: every fee line of the contracts signed before November recorded and made payable
# in step with what was collected by the end of October, October's statements, the spend per customer of every
# month, the contracts as drafting last saw them.
# Then, with the calendar's clock at 2026-12-01 00:30 in Shanghai, finance drafts November's statements once
# (POST /api/v1/relationship-spending/statements/draft), timed; annexd's peak resident memory (VmHWM) and the CPU
# time it spent are read.
# Goal: <= 30 s with annexd's RSS under 300 MB, on a 2-core machine.
#   tests/bench/statements_bench.sh [BUILD_DIR] [LINES] [COLLECTIONS] [REPS]
# (LINES / 5 contracts; REPS × 200 customers; smaller figures for a quick run, e.g. 100000 50000 50)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
lines=${2:-1000000}
collections=${3:-500000}
reps=${4:-500}
contracts=$((lines / 5))
customers=$((reps * 200))
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed: apt-get install sqlite3" >&2; exit 1; }
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
[ "$collections" -le $((contracts * 3)) ] || { echo "at most 3 collections per contract: COLLECTIONS <= 3 × LINES / 5" >&2; exit 1; }
[ "$reps" -ge 10 ] && [ $((reps % 10)) -eq 0 ] || { echo "REPS is a multiple of 10 (10 sectors)" >&2; exit 1; }
per_sector=$((reps / 10))

work=$(mktemp -d /tmp/annex-statements-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
echo "2026-12-01T00:30:00+08:00" >"$work/now"  # November has ended; the job of the 1st (01:00) is not due yet
cat >"$work/annex.json" <<JSON
{"calendar": {"time_zone": "Asia/Shanghai", "test_clock_file": "$work/now"},
 "approvals": {"chains": {
   "relationship-statement": {"steps": [{"name": "clerk", "role": "sales-clerk"}, {"name": "sales-manager", "role": "sector-head"},
                                        {"name": "finance", "role": "finance", "scope": "any"}]},
   "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
 "plugins": {"org.annex.relationship-spending": {"payout_policy": "rate", "cap": 300000}}}
JSON
export ANNEX_CONFIG="$work/annex.json"
ctl() { "$build/bin/annexctl" --data-dir "$work/data" "$@"; }
start() {
  rm -f "$work/out"  # the previous run's "listening on" must not be read before this run writes its own
  "$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
    --log-level warn >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 1200); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^annexd listening on //p' "$work/out")
  [ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
as_finance() { curl -sf -H "Authorization: Bearer $fin_token" -H "Content-Type: application/json" "$@"; }

ctl user create fin --role finance >/dev/null
fin_token=$(ctl token create fin 2>/dev/null)
start  # creates the plugins' tables
stop

# Ids shaped like the ones annexd makes (their length decides what a string costs in memory): rep i, customer i,
# product i, contract i, collection i as SQL expressions of i.
rep() { echo "('u_' || printf('%032x', $1))"; }
party() { echo "('md_' || printf('%012x%08x', 1735660800000, $1) || '5eed0001')"; }
product() { echo "('md_' || printf('%012x%08x', 1735660800001, $1) || '5eed0002')"; }
contract() { echo "('ct_' || printf('%012x%04x%08x', 1764547200000 + ($1), ($1) % 65536, $1))"; }
collection() { echo "('co_' || printf('%012x%04x%08x', 1764547200000 + ($1), ($1) % 65536, $1))"; }

# Master data: 10 sectors, the reps, their customers; 40 products in 8 groups.
sqlite3 "$work/data/annex.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < 10)
INSERT INTO annex_sectors (id, name, created_at) SELECT 'b' || i, 'Sector ' || i, '2025-01-01T00:00:00.000Z' FROM g;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $reps)
INSERT INTO annex_users (id, login, display_name, status, created_at)
SELECT $(rep i), printf('rep%04d', i), printf('Rep %d', i), 'active', '2025-01-01T00:00:00.000Z' FROM g;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $reps)
INSERT INTO annex_role_assignments (user_id, role, sector_id) SELECT $(rep i), 'sales-rep', 'b' || (i / $per_sector) FROM g;
INSERT INTO annex_memberships (user_id, sector_id, created_at)
SELECT user_id, sector_id, '2025-01-01T00:00:00.000Z' FROM annex_role_assignments WHERE role = 'sales-rep';
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $customers)
INSERT INTO annex_md_parties (id, code, name, kind, status, sector_id, owner_id, version, created_at, updated_at)
SELECT $(party i), printf('C%07d', i), printf('Customer %d', i), 'customer', 'active', 'b' || ((i / 200) / $per_sector),
  $(rep "i / 200"), 1, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
FROM g;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < 40)
INSERT INTO annex_md_products (id, code, name, product_group, unit, status, version, created_at, updated_at)
SELECT $(product i), printf('P%02d', i), printf('Product %d', i), 'group' || (i / 5), 'pcs', 'active', 1,
  '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
FROM g;
COMMIT;
SQL

# Standards, as finance sets them: a rate on the sales amount for groups 0–5, an amount per unit for each product
# of groups 6 and 7 (0.4–2 % of the sales amount, like the rates).
start
for g in 0 1 2 3 4 5; do
  as_finance -o /dev/null -X POST -d "{\"product_group\": \"group$g\", \"rate_bp\": $((100 + 50 * g)), \"gl_account\": \"66010$g\", \"effective_from\": \"2025-01-01\"}" \
    "$url/api/v1/relationship-spending/standards"
done
for p in $(seq 30 39); do
  id=$(sqlite3 "$work/data/annex.db" "SELECT $(product "$p")")
  as_finance -o /dev/null -X POST -d "{\"product_id\": \"$id\", \"amount_per_unit\": {\"amount\": $((200 + 10 * (p - 30))), \"currency\": \"CNY\"}, \"gl_account\": \"6601$p\", \"effective_from\": \"2025-01-01\"}" \
    "$url/api/v1/relationship-spending/standards"
done
stop

echo "loading $contracts contracts ($lines lines) of $reps reps with $customers customers, $collections collections"
loaded_from=$(date +%s)
sqlite3 "$work/data/annex.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA temp_store = MEMORY;
BEGIN;
-- Contract i: rep i % REPS, for the rep's customer (i / REPS) % 200, signed on day i × 365 / N from 2025-12-01;
-- 5 lines of (1 + i % 7) units at 100.00, 200.00 … 500.00: total (1 + i % 7) × 1,500.00.
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $contracts)
INSERT INTO contracts_contracts (id, number, party_id, sector_id, owner_id, currency, total, collected, status, signed_on,
  start_on, created_at, updated_at, version)
SELECT $(contract i), printf('K-%07d', i), $(party "(i % $reps) * 200 + (i / $reps) % 200"), 'b' || ((i % $reps) / $per_sector),
  $(rep "i % $reps"), 'CNY', (1 + i % 7) * 150000, 0, 'signed', date('2025-12-01', '+' || (i * 365 / $contracts) || ' days'),
  date('2025-12-01', '+' || (i * 365 / $contracts) || ' days'), '2025-12-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z', 3
FROM g;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $lines)
INSERT INTO contracts_lines (contract_id, line_no, product_id, quantity, unit_price, amount)
SELECT $(contract "i / 5"), i % 5 + 1, $(product "i % 40"), 1 + (i / 5) % 7, 10000 * (i % 5 + 1), (1 + (i / 5) % 7) * 10000 * (i % 5 + 1)
FROM g;
-- Split credit on every tenth contract: 60 % the owner, 40 % the next rep of the sector.
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM g WHERE i + 10 < $contracts)
INSERT INTO contracts_splits (contract_id, user_id, percent)
SELECT $(contract i), $(rep "i % $reps"), 60 FROM g
UNION ALL SELECT $(contract i), $(rep "((i % $reps) / $per_sector) * $per_sector + (i % $reps + 1) % $per_sector"), 40 FROM g;
-- Collection j: round j / N of contract j % N (40 %, 30 %, the rest), received 15, 55 and 95 days after the signing
-- (at the latest on 2026-11-30); one in 97 reversed a week later.
WITH RECURSIVE g(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM g WHERE j + 1 < $collections)
INSERT INTO contracts_collections (id, contract_id, received_on, amount, currency, reference, source, created_by, created_at,
  reversed_on, reversal_reference, reversal_reason, reversed_by, reversed_at)
SELECT $(collection g.j), k.id, min(date(k.signed_on, '+' || (15 + 40 * (g.j / $contracts)) || ' days'), '2026-11-30'),
  CASE g.j / $contracts WHEN 0 THEN k.total * 4 / 10 WHEN 1 THEN k.total * 3 / 10 ELSE k.total - k.total * 4 / 10 - k.total * 3 / 10 END,
  'CNY', 'BANK-' || g.j, 'erp', 'u_fin', '2025-12-01T00:00:00.000Z',
  CASE WHEN g.j % 97 = 0 THEN min(date(k.signed_on, '+' || (22 + 40 * (g.j / $contracts)) || ' days'), '2026-11-30') END,
  CASE WHEN g.j % 97 = 0 THEN 'REV-' || g.j END, CASE WHEN g.j % 97 = 0 THEN 'returned by the bank' END,
  CASE WHEN g.j % 97 = 0 THEN 'u_fin' END, CASE WHEN g.j % 97 = 0 THEN '2025-12-01T00:00:00.000Z' END
FROM g JOIN contracts_contracts k ON k.id = $(contract "g.j % $contracts");
UPDATE contracts_contracts SET collected = COALESCE((SELECT SUM(amount) FROM contracts_collections o
  WHERE o.contract_id = contracts_contracts.id AND o.reversed_on IS NULL), 0);

-- What drafting the months before November left: the fees of every line signed before November, payable in step
-- with what was collected by the end of October (the 'rate' policy).
CREATE TEMP TABLE october AS
SELECT contract_id, SUM(amount) AS collected FROM contracts_collections
WHERE received_on <= '2026-10-31' AND (reversed_on IS NULL OR reversed_on > '2026-10-31') GROUP BY contract_id;
CREATE TEMP TABLE credit AS
SELECT contract_id, user_id, percent FROM contracts_splits
UNION ALL SELECT id, owner_id, 100 FROM contracts_contracts k WHERE NOT EXISTS (SELECT 1 FROM contracts_splits s WHERE s.contract_id = k.id);
CREATE TEMP TABLE standard_of AS
SELECT p.id AS product_id, s.id AS standard_id, s.basis, s.amount, s.rate_bp, s.gl_account
FROM annex_md_products p JOIN relationship_standards s ON s.product_id = p.id OR (s.product_id IS NULL AND s.product_group = p.product_group);
INSERT INTO relationship_fees (contract_id, line_no, rep_id, contract_number, party_id, sector_id, product_id, standard_id,
  gl_account, signed_on, share_percent, earned, payable, first_period)
SELECT contract_id, line_no, rep_id, number, party_id, sector_id, product_id, standard_id, gl_account, signed_on, percent, earned,
  CASE WHEN collected >= total THEN earned ELSE earned * collected / total END, substr(signed_on, 1, 7)
FROM (SELECT l.contract_id, l.line_no, c.user_id AS rep_id, k.number, k.party_id, k.sector_id, l.product_id, s.standard_id,
        s.gl_account, k.signed_on, c.percent, k.total, COALESCE(o.collected, 0) AS collected,
        (CASE s.basis WHEN 'per_unit' THEN s.amount * l.quantity ELSE (l.amount * s.rate_bp + 5000) / 10000 END) * c.percent / 100 AS earned
      FROM contracts_lines l JOIN contracts_contracts k ON k.id = l.contract_id JOIN credit c ON c.contract_id = l.contract_id
      JOIN standard_of s ON s.product_id = l.product_id LEFT JOIN october o ON o.contract_id = l.contract_id
      WHERE k.signed_on < '2026-11-01');
INSERT INTO relationship_contracts (contract_id, party_id, currency, total, collected, collected_converted, seen_on)
SELECT k.id, k.party_id, 'CNY', k.total, COALESCE(o.collected, 0), COALESCE(o.collected, 0), '2026-10-31'
FROM contracts_contracts k LEFT JOIN october o ON o.contract_id = k.id WHERE k.signed_on < '2026-11-01';
-- October's statements, signed; and the spend on each customer of each month before (one line per customer and month,
-- 2 % of what it paid by October in all).
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $reps)
INSERT INTO relationship_statements (id, rep_id, sector_id, period, currency, status, submit_due, sign_due, payout_from,
  submitted_at, approval_id, signed_at, fee_payable, recovered, net_payable, recovery_due, content, content_hash, created_at,
  updated_at, version)
SELECT 'rst_' || printf('%012x%04x%08x', 1761955200000 + i, i, i), $(rep i), 'b' || (i / $per_sector), '2026-10', 'CNY', 'signed',
  '2026-11-04', '2026-11-11', '2026-11-12', '2026-11-03T02:00:00.000Z', NULL, '2026-11-10T02:00:00.000Z', 100000, 0, 100000, 0,
  '{}', NULL, '2026-11-01T00:00:00.000Z', '2026-11-10T02:00:00.000Z', 5
FROM g;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $customers),
  m(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM m WHERE n + 1 < 11),
  paid AS (SELECT party_id, SUM(collected) AS collected FROM relationship_contracts GROUP BY party_id)
INSERT INTO relationship_spend (id, party_id, rep_id, sector_id, kind, source_id, spent_on, amount)
SELECT 'rsp_' || printf('%012x%04x%08x', 1735660800000 + m.n, i % 65536, i), $(party i), $(rep "i / 200"),
  'b' || ((i / 200) / $per_sector), 'fee', 'rst_' || printf('%02d%08x', m.n, i / 200),
  date('2025-12-01', '+' || m.n || ' months', '+1 month', '-1 day'), COALESCE(paid.collected, 0) * 2 / 100 / 11
FROM g JOIN m LEFT JOIN paid ON paid.party_id = $(party i);
COMMIT;
ANALYZE;
SQL
echo "loaded in $(($(date +%s) - loaded_from)) s: $(sqlite3 "$work/data/annex.db" "SELECT (SELECT COUNT(*) FROM contracts_lines) || ' lines, '
  || (SELECT COUNT(*) FROM contracts_collections) || ' collections (' || (SELECT COUNT(*) FROM contracts_collections
  WHERE received_on >= '2026-11-01') || ' in November, ' || (SELECT COUNT(*) FROM contracts_collections WHERE reversed_on IS NOT NULL)
  || ' reversed), ' || (SELECT COUNT(*) FROM contracts_contracts WHERE signed_on >= '2026-11-01') || ' contracts signed in November, '
  || (SELECT COUNT(*) FROM relationship_fees) || ' fee lines recorded before'")"

start
# annexd's peak resident memory: VmHWM, the peak since it started, read after drafting;
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
# and the CPU time it spent (user + system, in clock ticks): on a shared machine the wall time also counts waiting.
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
rss_before=$(hwm)
cpu_before=$(cpu)
started=$(date +%s.%N)
as_finance -X POST -d '{"period": "2026-11"}' -o "$work/report" -w '%{http_code}\n' --max-time 3600 \
  "$url/api/v1/relationship-spending/statements/draft" >"$work/status" || true
finished=$(date +%s.%N)
peak=$(hwm)
cpu_seconds=$(awk -v a="$cpu_before" -v b="$(cpu)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz}')
status=$(cat "$work/status")
[ "$status" = 200 ] || { echo "drafting answered $status: $(cat "$work/report" 2>/dev/null)" >&2; tail -20 "$work/err" >&2; exit 1; }
seconds=$(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.1f", b - a}')
peak_mb=$(awk -v k="$peak" 'BEGIN {printf "%.0f", k / 1024}')
before_mb=$(awk -v k="$rss_before" 'BEGIN {printf "%.0f", k / 1024}')
stop
echo "report: $(cat "$work/report")"
echo "statements: $(sqlite3 "$work/data/annex.db" "SELECT COUNT(*) || ' of November, ' || (SUM(length(content)) / 1048576) || ' MB of content, '
  || (SUM(json_array_length(content, '\$.customers'))) || ' customer entries'
  FROM relationship_statements WHERE period = '2026-11'")"
verdict=$(awk -v s="$seconds" -v m="$peak_mb" 'BEGIN { print (s <= 30 && m < 300) ? "meets" : "misses" }')
echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores"
echo "load average before: $load"
echo "drafting November for $reps reps × 200 customers from $lines contract lines and $collections collections: ${seconds} s" \
  "(annexd's CPU ${cpu_seconds} s), annexd's peak RSS ${peak_mb} MB (${before_mb} MB before) — ${verdict} the goal (<= 30 s, < 300 MB)"
