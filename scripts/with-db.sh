#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a database, starting one if needed.
#   scripts/with-db.sh throwaway CMD...   a new cluster in /tmp, removed afterwards
#   scripts/with-db.sh embedded CMD...    the project's own cluster in .pgdata/ (kept)
# When DATABASE_URL is already set, the command simply runs against it.
# The work is python -m harness with-db (harness/__main__.py): it uses a PostgreSQL container
# instead when a Docker engine answers, and says on stderr which PostgreSQL it used.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m harness with-db "$@"
