#!/usr/bin/env bash
# Sync benchmark (not a test): a private PostgreSQL with N customers (default 1,000,000) is pulled over psqlODBC
# into annexd's SQLite store, while annexd's resident memory is sampled; then M of those parties (default
# 100,000) are changed in Annex and pushed back. Goals: pull >= 50,000 records/s with RSS < 100 MB throughout;
# push >= 20,000 records/s.
#   tests/bench/sync_bench.sh [BUILD_DIR] [N] [M]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
m=${3:-100000}
[ -x "$build/bin/annexd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

. "$root/tests/bench/private_pg.sh" sync
psql -c "CREATE TABLE customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT, updated_at TEXT NOT NULL);
         INSERT INTO customers SELECT 'C' || lpad(g::text, 7, '0'), 'Customer ' || g, 'Region ' || (g % 50),
           to_char(timestamp '2026-01-01' + (g / 3) * interval '1 second', 'YYYY-MM-DD HH24:MI:SS') FROM generate_series(1, $n) g;
         CREATE INDEX customers_cursor ON customers (updated_at, cust_no);"

cat >"$work/annex.json" <<JSON
{"sync": {"connections": {"finance": {"connector": "odbc",
  "settings": {"connection_string": "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=$port;DATABASE=annex_test;UID=annex;UseDeclareFetch=1;Fetch=10000;BatchSize=500", "write_sessions": 2,
    "streams": {"customers": {
      "select": "SELECT cust_no, name, region, updated_at FROM customers WHERE updated_at >= ? ORDER BY updated_at, cust_no",
      "cursor_field": "updated_at", "key_field": "cust_no",
      "upsert": "INSERT INTO customers (cust_no, name, region, updated_at) VALUES (:cust_no, :name, :region, '2027-01-01') ON CONFLICT (cust_no) DO UPDATE SET name = excluded.name, region = excluded.region",
      "update": "UPDATE customers SET name = COALESCE(:name, name), region = COALESCE(:region, region) WHERE cust_no = :cust_no"}}},
  "streams": {"customers": {"entity": "parties", "direction": "both", "remote_id": "cust_no", "version_field": "updated_at",
    "page_size": 5000, "sector_id": "hq", "owner_login": "bench",
    "fields": {"code": "cust_no", "name": "name", "region": "region"}, "system_of_record": {"default": "annex"}}}}}}}
JSON
export ANNEX_CONFIG="$work/annex.json"
"$build/bin/annexctl" --data-dir "$work/data" user create bench --role system-admin --sector hq >/dev/null
token=$("$build/bin/annexctl" --data-dir "$work/data" token create bench 2>/dev/null)
"$build/bin/annexd" --data-dir "$work/data" --listen 127.0.0.1:0 --plugin-dir "$build/lib/annex/plugins" --log-level warn \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
base=$(sed -n 's/^annexd listening on //p' "$work/out")
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

# Waits for the connection's runs to finish, sampling annexd's RSS; prints "seconds max_rss_kb".
follow() {
  local started=$1 max=0 rss
  while :; do
    rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
    [ "$rss" -gt "$max" ] && max=$rss
    if ! api "$base/api/v1/sync/runs?connection=finance" | grep -q '"status":"running"'; then break; fi
    sleep 0.2
  done
  echo "$(( $(date +%s%N) / 1000000 - started )) $max"
}

echo "annexd $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores; pulling $n customers"
start=$(( $(date +%s%N) / 1000000 ))
api -X POST "$base/api/v1/sync/connections/finance/runs" -d '{}' >/dev/null
sleep 0.5
read -r ms rss <<<"$(follow "$start")"
api "$base/api/v1/sync/runs?connection=finance" | head -c 600; echo
pulled=$(sqlite3 "$work/data/annex.db" "SELECT COUNT(*) FROM annex_md_parties" 2>/dev/null || echo "$n")
echo "pull: $pulled records in $ms ms — $(( pulled * 1000 / (ms > 0 ? ms : 1) )) records/s; annexd RSS at most $(( rss / 1024 )) MB"

# $m changes made in Annex, each with its outbox row, as user edits would make them (one transaction here).
python3 - "$work/data/annex.db" "$m" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); m = int(sys.argv[2])
db.execute("UPDATE annex_md_parties SET name = name || ' (edited)', version = version + 1 WHERE id IN (SELECT id FROM annex_md_parties ORDER BY id LIMIT ?)", (m,))
db.execute("""INSERT INTO annex_sync_outbox (connection, stream, entity, record_id, idempotency_key, state, attempts, next_attempt_at, created_at)
              SELECT 'finance', 'customers', 'parties', id, 'bench/' || id || '/' || version, 'pending', 0, '2000-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
              FROM annex_md_parties ORDER BY id LIMIT ?""", (m,))
db.commit()
PY
start=$(( $(date +%s%N) / 1000000 ))
for _ in $(seq 1 240); do
  # One light query twice a second: the bench shares the cores with what it measures.
  left=$(sqlite3 "$work/data/annex.db" "SELECT EXISTS (SELECT 1 FROM annex_sync_outbox WHERE state = 'pending')")
  [ "$left" = 0 ] && break
  sleep 0.5
done
ms=$(( $(date +%s%N) / 1000000 - start ))
edited=$(psql -tAc "SELECT COUNT(*) FROM customers WHERE name LIKE '%(edited)'")
run_ms=$(sqlite3 "$work/data/annex.db" "SELECT COALESCE(SUM(duration_ms), 0) FROM annex_sync_runs WHERE direction = 'push' AND read_count > 0")
echo "push: $edited of $m records in $ms ms from the change to the last row sent (the push job ticks every 3 s);"
echo "      in the push runs themselves: $run_ms ms — $(( edited * 1000 / (run_ms > 0 ? run_ms : 1) )) records/s"
