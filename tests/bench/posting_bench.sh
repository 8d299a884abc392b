#!/usr/bin/env bash
# Posting benchmark (not a test): N journal entries (default 100,000; a header and 3 lines each, as an approved
# expense claim makes them) wait in annexd's document outbox (SQLite), and one push run of the "journal" document
# stream writes them over psqlODBC into a private PostgreSQL's journal tables, which hold HISTORY earlier entries
# (default 500,000). Goal: >= 10,000 entries/s.
#   [WRITE_SESSIONS=2] [ROWS_PER_INSERT=100] [ODBC_OPTIONS=…] tests/bench/posting_bench.sh [BUILD_DIR] [N] [PAGE_SIZE] [HISTORY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-100000}
page=${3:-1000}
history=${4:-500000}
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
[ -f "$build/tests/fixtures/plugins/documents/poster.so" ] || { echo "build the test fixtures first" >&2; exit 1; }

. "$root/tests/bench/private_pg.sh" posting
# The README's journal tables.
psql -c "CREATE TABLE journal_entries (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, entry_key VARCHAR(200) NOT NULL UNIQUE,
           entry_date DATE NOT NULL, reference VARCHAR(100), description VARCHAR(400), currency CHAR(3) NOT NULL);
         CREATE TABLE journal_lines (entry_key VARCHAR(200) NOT NULL REFERENCES journal_entries (entry_key), line_no INTEGER NOT NULL,
           account VARCHAR(20) NOT NULL, cost_centre VARCHAR(20), debit BIGINT NOT NULL, credit BIGINT NOT NULL,
           description VARCHAR(400), PRIMARY KEY (entry_key, line_no));"
# The journal's history: a finance database's journal is never empty (and its planner knows it).
psql -c "INSERT INTO journal_entries (entry_key, entry_date, reference, description, currency)
           SELECT 'old-' || lpad(g::text, 8, '0'), date '2024-01-01' + g % 700, 'OLD-' || g, 'Earlier entry ' || g, 'EUR'
           FROM generate_series(1, $history) g;
         INSERT INTO journal_lines SELECT 'old-' || lpad(g::text, 8, '0'), l, CASE WHEN l = 3 THEN '2100' ELSE '64' || l || '0' END,
           'CC' || (g % 40), CASE WHEN l = 3 THEN 0 ELSE 1000 END, CASE WHEN l = 3 THEN 2000 ELSE 0 END, 'Earlier line'
           FROM generate_series(1, $history) g, generate_series(1, 3) l;
         ANALYZE journal_entries; ANALYZE journal_lines;"

cat >"$work/annex.json" <<JSON
{"sync": {"connections": {"finance": {"connector": "odbc",
  "settings": {"connection_string": "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=$port;DATABASE=annex_test;UID=annex${ODBC_OPTIONS:+;$ODBC_OPTIONS}",
    "write_sessions": ${WRITE_SESSIONS:-2}, "rows_per_insert": ${ROWS_PER_INSERT:-100},
    "streams": {"journal": {"journal": {"id_column": "id"}}}},
  "streams": {"journal": {"documents": "org.annex.test.poster", "direction": "push", "page_size": $page}}}}}}
JSON
export ANNEX_CONFIG="$work/annex.json"
"$build/bin/annexctl" --data-dir "$work/data" user create bench --role system-admin --sector hq >/dev/null
token=$("$build/bin/annexctl" --data-dir "$work/data" token create bench 2>/dev/null)
"$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" \
  --plugin-dir "$build/tests/fixtures/plugins/documents" --log-level warn >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
base=$(sed -n 's/^annexd listening on //p' "$work/out")
[ -n "$base" ] || { cat "$work/err" >&2; exit 1; }
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

# N entries as the poster plugin queues them (the same rows its enqueue writes), in one transaction here.
python3 - "$work/data/annex.db" "$n" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
def entry(i):
    a, b = 1000 + i % 9000, 2000 + i % 7000
    return json.dumps({"date": "2026-11-%02d" % (1 + i % 28), "reference": "EC-%07d" % i, "description": "Expense claim %d" % i,
                       "currency": "EUR", "lines": [
                           {"account": "6400", "cost_centre": "CC%02d" % (i % 40), "debit": a, "credit": 0, "description": "Travel"},
                           {"account": "6410", "cost_centre": "CC%02d" % (i % 40), "debit": b, "credit": 0, "description": "Meals"},
                           {"account": "2100", "debit": 0, "credit": a + b, "description": "Employee payable"}]})
db.executemany("""INSERT INTO annex_sync_documents (connection, stream, owner, doc_key, document, state, attempts, next_attempt_at, created_at)
                  VALUES ('finance', 'journal', 'org.annex.test.poster', ?, ?, 'pending', 0, '2000-01-01T00:00:00Z', '2026-12-01T00:00:00Z')""",
               (("claim-%07d" % i, entry(i)) for i in range(n)))
db.commit()
PY

echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; posting $n entries, pages of $page"
start=$(( $(date +%s%N) / 1000000 ))
api -X POST "$base/api/v1/sync/connections/finance/runs" -d '{"stream": "journal"}' >/dev/null
for _ in $(seq 1 1200); do
  sleep 0.5
  left=$(sqlite3 "$work/data/annex.db" "SELECT EXISTS (SELECT 1 FROM annex_sync_documents WHERE state = 'pending')")
  [ "$left" = 0 ] && break
  failed=$(sqlite3 "$work/data/annex.db" "SELECT error FROM annex_sync_runs WHERE stream = 'journal' AND error <> '' LIMIT 1")
  [ -z "$failed" ] || { echo "the push failed: $failed" >&2; exit 1; }
done
ms=$(( $(date +%s%N) / 1000000 - start ))
entries=$(psql -tAc "SELECT COUNT(*) FROM journal_entries WHERE entry_key LIKE 'claim-%'")
lines=$(psql -tAc "SELECT COUNT(*) FROM journal_lines WHERE entry_key LIKE 'claim-%'")
run_ms=$(sqlite3 "$work/data/annex.db" "SELECT COALESCE(SUM(duration_ms), 0) FROM annex_sync_runs WHERE stream = 'journal' AND direction = 'push'")
dead=$(sqlite3 "$work/data/annex.db" "SELECT COUNT(*) FROM annex_sync_documents WHERE state = 'dead'")
echo "posted: $entries entries ($lines lines) in PostgreSQL, $dead refused; $ms ms from the request to the last one delivered"
echo "        in the push run itself: $run_ms ms — $(( entries * 1000 / (run_ms > 0 ? run_ms : 1) )) entries/s"
