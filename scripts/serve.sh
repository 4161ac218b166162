#!/usr/bin/env bash
# make run: migrate, load demo data (prints demo tokens), then serve HTTP on HOST:PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set}"
PY=.venv/bin/python
$PY -m app migrate
$PY -m app demo-data
exec $PY -m app serve
