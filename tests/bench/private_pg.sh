# Sourced by the benchmarks that write to a PostgreSQL of their own: makes $work (a temporary directory named
# after $1), starts PostgreSQL in it, defines psql() against it and $port, and on exit stops annexd ($pid, when
# set), PostgreSQL and removes $work.
work=$(mktemp -d "/tmp/annex-$1-bench.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; "$root/tests/support/pg_down.sh" "$work/pg" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

"$root/tests/support/pg_up.sh" "$work/pg" >/dev/null
port=$(sed -n 's|.*:\([0-9]*\)/.*|\1|p' <"$work/pg/url")
psql() { command psql -q -h 127.0.0.1 -p "$port" -U annex annex_test "$@"; }
