#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a database, starting one if needed.
#   scripts/with-db.sh throwaway CMD...   a new cluster in /tmp, removed afterwards
#   scripts/with-db.sh embedded CMD...    the project's own cluster in .pgdata/ (kept)
# When DATABASE_URL is already set, the command simply runs against it.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1; shift

if [ -n "${DATABASE_URL:-}" ]; then
    exec "$@"
fi

started=0
cleanup() {
    local rc=$?
    if [ "$mode" = throwaway ]; then
        scripts/pg.sh stop "$datadir"
        rm -rf "$workdir"
    elif [ "$started" = 1 ]; then
        scripts/pg.sh stop "$datadir"
    fi
    exit $rc
}

case "$mode" in
throwaway)
    workdir=$(mktemp -d /tmp/booking-test.XXXXXX)
    chmod 755 "$workdir"        # the postgres user must reach the data directory
    datadir=$workdir/data
    trap cleanup EXIT INT TERM
    scripts/pg.sh start "$datadir" throwaway >/dev/null
    ;;
embedded)
    datadir=${PGDATA_DIR:-$PWD/.pgdata}
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$(dirname "$datadir")"; then
        datadir=/var/tmp/booking-pgdata-$(printf '%s' "$PWD" | md5sum | cut -c1-12)
        echo "with-db: the postgres user cannot reach $PWD; keeping the database in $datadir" >&2
    fi
    if ! scripts/pg.sh status "$datadir" >/dev/null 2>&1; then started=1; fi
    trap cleanup EXIT INT TERM
    scripts/pg.sh start "$datadir" durable >/dev/null
    ;;
*) echo "with-db: unknown mode $mode" >&2; exit 2 ;;
esac

psql -qAt "$(scripts/pg.sh url "$datadir" postgres)" \
    -c "SELECT 1 FROM pg_database WHERE datname = 'booking'" | grep -q 1 \
    || psql -q "$(scripts/pg.sh url "$datadir" postgres)" -c "CREATE DATABASE booking" >/dev/null
export DATABASE_URL
DATABASE_URL=$(scripts/pg.sh url "$datadir" booking)
"$@"
