#!/usr/bin/env bash
# The tools `make bench` needs beyond scripts/bootstrap.sh: pgbench (PostgreSQL's client
# package) and wrk (the HTTP load generator of the service scenario). As root they are
# installed with apt-get; otherwise the command to run is printed (the service scenario is
# skipped without wrk, and reported as skipped).
set -euo pipefail
missing=()
command -v pgbench >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || missing+=(postgresql-client)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# py-spy (the profiler of `make bench-profile`) is a Python package: pyproject's [bench] extra.
if [ -x .venv/bin/python ] && [ ! -x .venv/bin/py-spy ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[bench]' 2>&1 | grep -v '^WARNING: Location' || true
fi
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "bench: missing ${missing[*]}; install with:  sudo apt-get install -y ${missing[*]}" >&2
fi
