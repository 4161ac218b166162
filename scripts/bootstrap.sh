#!/usr/bin/env bash
# Installs what the project needs and is missing, then creates .venv/.
#   scripts/bootstrap.sh [--with-pgtap]
# System packages come from apt when running as root (or with passwordless sudo);
# otherwise this prints the command to run and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

want_pgtap=0
[ "${1:-}" = "--with-pgtap" ] && want_pgtap=1

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
if [ -z "${DATABASE_URL:-}" ] && [ -z "$(pg_bindir)" ]; then
    missing+=(postgresql postgresql-contrib)
fi
# The change feed reads the WAL through wal2json (app/changefeed.py); without it the
# feed falls back to the outbox, which works but is not what production runs.
if [ -z "${DATABASE_URL:-}" ] || [ "$want_pgtap" = 1 ]; then
    major=$(basename "$(dirname "$(pg_bindir)")" 2>/dev/null || true)
    if [ -n "$major" ] && [ ! -f "/usr/lib/postgresql/$major/lib/wal2json.so" ]; then
        missing+=("postgresql-$major-wal2json")
    fi
fi
# PL/Proxy: a cluster's proxy (docs/SCALING.md: `PARTITIONS=N make run`, the cluster tests).
if [ -z "${DATABASE_URL:-}" ] || [ "$want_pgtap" = 1 ]; then
    major=$(basename "$(dirname "$(pg_bindir)")" 2>/dev/null || true)
    if [ -n "$major" ] && [ ! -f "/usr/share/postgresql/$major/extension/plproxy.control" ]; then
        missing+=("postgresql-$major-plproxy")
    fi
fi
# pg_auto_failover: a primary, a synchronous standby and a monitor (`HA=1 make run`,
# `make torture HA=1`, tests/py/e2e/test_ha.py; docs/RELIABILITY.md).
if [ -n "${HA:-}" ] || [ "$want_pgtap" = 1 ]; then
    major=$(basename "$(dirname "$(pg_bindir)")" 2>/dev/null || true)
    if [ -n "$major" ] && ! command -v pg_autoctl >/dev/null 2>&1; then
        missing+=("postgresql-$major-auto-failover")
    fi
fi
if [ "$want_pgtap" = 1 ]; then
    command -v pg_prove >/dev/null 2>&1 || missing+=(pgtap)
    major=$(basename "$(dirname "$(pg_bindir)")" 2>/dev/null || true)
    if [ -n "$major" ] && [ ! -f "/usr/share/postgresql/$major/extension/pgtap.control" ]; then
        missing+=("postgresql-$major-pgtap")
    elif [ -z "$major" ]; then
        missing+=(postgresql-pgtap)   # resolves to the default server version's pgTAP
    fi
    # The booking page's browser test (tests/py/e2e/test_browser.py) drives Debian's
    # Chromium through Playwright; as root it is installed here (never `playwright install`).
    if [ "$(id -u)" = 0 ] && [ ! -x /usr/bin/chromium ]; then
        missing+=(chromium)
    fi
    # The benchmark's smoke test drives the service with wrk (tests/py/e2e/test_bench.py).
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    # The deployment test runs deploy/nginx.conf in front of the service.
    if [ ! -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null 2>&1; then
        missing+=(nginx)
    fi
    # The alerting rules are checked and unit-tested with promtool (tests/py/unit/test_monitoring.py);
    # Debian's prometheus package ships it (its systemd unit does not start without systemd).
    command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else
        echo "bootstrap: missing system packages: ${missing[*]}" >&2
        echo "bootstrap: install them with:  sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    command -v apt-get >/dev/null 2>&1 || {
        echo "bootstrap: missing ${missing[*]} and no apt-get here; install PostgreSQL and pgTAP with your package manager" >&2
        exit 1
    }
    echo "bootstrap: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] || [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    py=${PYTHON:-python3}
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "bootstrap: Python 3.11 or newer is required (found $("$py" --version 2>&1))" >&2; exit 1; }
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
    .venv/bin/python -c 'import asyncpg, litestar, yoyo, psycopg, pytest' || { echo "bootstrap: pip install failed" >&2; exit 1; }
    touch .venv/.installed
fi
