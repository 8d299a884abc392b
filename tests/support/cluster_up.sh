#!/usr/bin/env bash
# The cluster the ClusterOfThree tests share: the reference deployment (deploy/cluster_up.sh) — three annexd
# behind HAProxy — on a database of its own in the tests' PostgreSQL, with the cluster probe plugin loaded, a
# finance schema in the same PostgreSQL reached over ODBC (twice 30,000 cost centres to pull; a ledger table Annex's
# own cost centres are pushed to, counting every write and taking 2 ms a row), and an administrator's token.
#   tests/support/cluster_up.sh STATE_DIR PG_URL_FILE BUILD_DIR
# Writes STATE_DIR/url (HAProxy), STATE_DIR/database_url, STATE_DIR/token and what deploy/cluster_up.sh writes.
set -euo pipefail
state=${1:?usage: cluster_up.sh STATE_DIR PG_URL_FILE BUILD_DIR}
pg_url_file=${2:?PG_URL_FILE}
build=${3:?BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$state"
state=$(cd "$state" && pwd)
"$root/deploy/cluster_down.sh" "$state" >/dev/null 2>&1 || true

# postgresql://USER@HOST:PORT/DB
pg=$(cat "$pg_url_file")
[[ "$pg" =~ ^postgresql://([^@]+)@([^:/]+):([0-9]+)/ ]] || { echo "cluster_up: cannot read $pg" >&2; exit 1; }
user=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]}
db=annex_cluster
dropdb -h "$host" -p "$port" -U "$user" --if-exists --force "$db"
createdb -h "$host" -p "$port" -U "$user" "$db"
psql -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d "$db" <<'SQL'
CREATE SCHEMA fin;
CREATE TABLE fin.centres (cc VARCHAR(20) PRIMARY KEY, title VARCHAR(80) NOT NULL, changed VARCHAR(30) NOT NULL);
INSERT INTO fin.centres SELECT 'CC' || lpad(g::text, 6, '0'), 'Centre ' || g, '2026-01-01' FROM generate_series(1, 30000) g;
-- A second set, pulled while the daemon pulling it is killed.
CREATE TABLE fin.more_centres (cc VARCHAR(20) PRIMARY KEY, title VARCHAR(80) NOT NULL, changed VARCHAR(30) NOT NULL);
INSERT INTO fin.more_centres SELECT 'MC' || lpad(g::text, 6, '0'), 'More ' || g, '2026-01-01' FROM generate_series(1, 30000) g;
-- Where Annex pushes its cost centres, and every write it received (a record written twice shows twice).
CREATE TABLE fin.centres_copy (cc VARCHAR(20) PRIMARY KEY, title VARCHAR(80) NOT NULL, changed VARCHAR(30) NOT NULL DEFAULT '');
CREATE TABLE fin.copy_writes (cc VARCHAR(20) NOT NULL);
CREATE FUNCTION fin.count_write() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fin.copy_writes (cc) VALUES (NEW.cc); PERFORM pg_sleep(0.002); RETURN NEW; END $$;
CREATE TRIGGER count_write AFTER INSERT OR UPDATE ON fin.centres_copy FOR EACH ROW EXECUTE FUNCTION fin.count_write();
SQL

odbc="DRIVER={PostgreSQL Unicode};SERVER=$host;PORT=$port;DATABASE=$db;UID=$user;ConnSettings=SET search_path TO fin;UseDeclareFetch=1;Fetch=1000"
cat >"$state/annex.json" <<JSON
{"sync": {"connections": {
  "finance": {"connector": "odbc",
    "settings": {"connection_string": "$odbc", "streams": {
      "centres": {"select": "SELECT cc, title, changed FROM centres WHERE changed >= ? ORDER BY changed, cc",
                  "cursor_field": "changed", "key_field": "cc"},
      "more": {"select": "SELECT cc, title, changed FROM more_centres WHERE changed >= ? ORDER BY changed, cc",
               "cursor_field": "changed", "key_field": "cc"}}},
    "streams": {"centres": {"entity": "cost_centres", "direction": "pull", "remote_id": "cc", "page_size": 1000,
                            "fields": {"code": "cc", "name": "title"}},
                "more": {"entity": "cost_centres", "direction": "pull", "remote_id": "cc", "page_size": 500,
                         "fields": {"code": "cc", "name": "title"}}}},
  "ledger": {"connector": "odbc",
    "settings": {"connection_string": "$odbc", "streams": {
      "copy": {"select": "SELECT cc, title, changed FROM centres_copy WHERE changed >= ? ORDER BY changed, cc", "cursor_field": "changed",
               "key_field": "cc",
               "upsert": "INSERT INTO centres_copy (cc, title) VALUES (:cc, :title) ON CONFLICT (cc) DO UPDATE SET title = excluded.title"}}},
    "streams": {"copy": {"entity": "cost_centres", "direction": "push", "remote_id": "cc", "page_size": 100,
                         "fields": {"code": "cc", "name": "title"}}}}}}}
JSON

"$root/deploy/cluster_up.sh" "$state" 3 --database-url "postgresql://$user@$host:$port/$db" --build "$build" -- \
  --config "$state/annex.json" --plugin-dir "$build/tests/fixtures/plugins/cluster" \
  --set events.park_after_failures=3 --set events.parked_retry_s=3600

ctl() { "$build/bin/annexctl" --config "$state/annex.json" --database-url "$(cat "$state/database_url")" --data-dir "$state/d1/data" "$@"; }
ctl user create prober --role system-admin --sector north >/dev/null
ctl token create prober | grep -o 'annex_pat_[^ ]*' | head -1 >"$state/token"
[ -s "$state/token" ] || { echo "cluster_up: no token" >&2; exit 1; }
echo "cluster_up: ready at $(cat "$state/url")"
