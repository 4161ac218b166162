#!/usr/bin/env bash
# A local PostgreSQL cluster for tests and for `make run`, started without Docker.
#
#   scripts/pg.sh start DATADIR [durable|throwaway]   initdb if needed, start, print the socket dir
#   scripts/pg.sh stop DATADIR                        fast shutdown (no error when not running)
#   scripts/pg.sh crash DATADIR                       immediate shutdown (no checkpoint)
#   scripts/pg.sh status DATADIR                      exit 0 when the server runs
#   scripts/pg.sh url DATADIR DBNAME                  print a libpq URL for DBNAME on that cluster
#   scripts/pg.sh settings durable|throwaway          print a mode's server settings (key = value lines)
#
# initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` OS user;
# the data directory must then be reachable by that user. The server listens only on a
# Unix socket (listen_addresses=''), so no TCP port can clash with anything else.
set -euo pipefail

PORT=5432
die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    if command -v pg_config >/dev/null 2>&1; then
        local d; d=$(pg_config --bindir)
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    fi
    local d; d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
    die "no PostgreSQL server binaries found (initdb, pg_ctl).
Install them with:   sudo apt-get install -y postgresql
or point DATABASE_URL at an existing server and run again."
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

server_settings() {
    # What a mode means, for this cluster and for a container (harness/cluster.py): durable
    # keeps PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes on).
    echo "max_connections = 200"
    echo "shared_buffers = 256MB"
    echo "log_min_messages = warning"
    # The change feed reads the WAL (mode logical: README, "The change feed"); a slot nobody
    # reads keeps at most max_slot_wal_keep_size of WAL, then PostgreSQL invalidates it.
    echo "wal_level = logical"
    echo "max_replication_slots = 64"
    echo "max_slot_wal_keep_size = 1GB"
    if [ "$1" = throwaway ]; then
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
    fi
}

socket_dir_for() {
    # A Unix socket path may not exceed 107 bytes: fall back to a short directory in /tmp.
    local datadir=$1
    if [ $(( ${#datadir} + 20 )) -lt 100 ]; then echo "$datadir"; else
        echo "/tmp/booking-pg-$(printf '%s' "$datadir" | md5sum | cut -c1-12)"
    fi
}

cmd=${1:-}; datadir=${2:-}
if [ "$cmd" = settings ]; then server_settings "${2:-throwaway}"; exit 0; fi
[ -n "$cmd" ] && [ -n "$datadir" ] || die "usage: pg.sh start|stop|url DATADIR ..."
datadir=$(realpath -m "$datadir")
sockdir=$(socket_dir_for "$datadir")

case "$cmd" in
start)
    mode=${3:-throwaway}
    bindir=$(find_bindir)
    mkdir -p "$datadir" "$sockdir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user (apt-get install postgresql creates it)"
        chown postgres: "$datadir" "$sockdir"
        chmod 700 "$datadir"
        runuser -u postgres -- test -w "$datadir" || die "$datadir is not reachable by the postgres user (a parent directory is private); set PGDATA_DIR to a path under /var/tmp"
    fi
    if [ ! -f "$datadir/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$datadir.initdb.log" 2>&1 \
            || { cat "$datadir.initdb.log" >&2; die "initdb failed"; }
        rm -f "$datadir.initdb.log"
        {
            echo "listen_addresses = ''"
            echo "unix_socket_directories = '$sockdir'"
            echo "port = $PORT"
            server_settings "$mode"
        } | as_owner tee -a "$datadir/postgresql.conf" >/dev/null
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start >/dev/null \
            || { tail -n 20 "$datadir/server.log" >&2 || true; die "the server did not start"; }
    fi
    echo "$sockdir"
    ;;
stop)
    bindir=$(find_bindir)
    if [ -f "$datadir/PG_VERSION" ]; then
        as_owner "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
crash)
    # Immediate shutdown: processes killed without a checkpoint, as in a power cut of the
    # server process (recovery replays the WAL at the next start).
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
status)
    bindir=$(find_bindir)
    [ -f "$datadir/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1
    ;;
url)
    dbname=${3:-postgres}
    echo "postgresql://postgres@/$dbname?host=$sockdir&port=$PORT"
    ;;
*) die "unknown command $cmd" ;;
esac
