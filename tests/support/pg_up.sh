#!/usr/bin/env bash
# Starts a private PostgreSQL for the tests and writes its URL to STATE_DIR/url.
#   pg_up.sh STATE_DIR
# The cluster lives in its own directory under /tmp (owned by the postgres user when run as root, since
# PostgreSQL refuses to run as root) with fsync off, on a free loopback port. pg_down.sh STATE_DIR stops it.
set -euo pipefail
state=${1:?usage: pg_up.sh STATE_DIR}
mkdir -p "$state"
if [ -f "$state/pgdata_dir" ] && [ -f "$(cat "$state/pgdata_dir")/postmaster.pid" ]; then
  "$(dirname "$0")/pg_down.sh" "$state" || true
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg_up: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

root=$(mktemp -d /tmp/annex-pg.XXXXXX)
chmod 755 "$root"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$root"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bin/initdb" -D "$root/data" --auth=trust --username=annex --encoding=UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
  || { cat "$state/initdb.log" >&2; exit 1; }
echo "$root/data" >"$state/pgdata_dir"

for attempt in 1 2 3 4 5 6 7 8; do
  port=$(( 20000 + (RANDOM % 20000) ))
  if "${as_pg[@]}" "$bin/pg_ctl" -D "$root/data" -w -t 60 -l "$root/server.log" \
       -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
       start >"$state/pg_ctl.log" 2>&1; then
    url="postgresql://annex@127.0.0.1:$port/annex_test"
    "${as_pg[@]}" "$bin/../bin/createdb" -h 127.0.0.1 -p "$port" -U annex annex_test 2>/dev/null \
      || "${as_pg[@]}" psql -h 127.0.0.1 -p "$port" -U annex -d postgres -c "CREATE DATABASE annex_test" >/dev/null
    echo "$url" >"$state/url"
    echo "pg_up: PostgreSQL on $url (data in $root)"
    exit 0
  fi
done
cat "$root/server.log" >&2 || true
echo "pg_up: could not start PostgreSQL" >&2
exit 1
