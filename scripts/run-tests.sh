#!/usr/bin/env bash
# The test suite, against the server in DATABASE_URL (scripts/with-db.sh provides one).
# It never touches an existing database: it creates a fresh one, migrates it twice (the
# second run must change nothing), runs pgTAP then pytest, and drops it again.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set}"
PY=.venv/bin/python

server_url=$($PY scripts/dburl.py "$DATABASE_URL" postgres)
testdb="booking_test_$$_$(date +%s)"
drop_db() {
    # its replication slot (the change feed's) first: a database a slot reads cannot be dropped
    $PY -c "import sys; from harness.cluster import drop_database_sql; print(drop_database_sql(sys.argv[1]))" "$testdb" |
        psql -qX "$server_url" >/dev/null 2>&1 || true
}
trap drop_db EXIT
psql -qX -v ON_ERROR_STOP=1 "$server_url" -c "CREATE DATABASE $testdb" >/dev/null
export DATABASE_URL
DATABASE_URL=$($PY scripts/dburl.py "$DATABASE_URL" "$testdb")

echo "== migrate (twice: the second run must change nothing)"
$PY -m app migrate
$PY -m app migrate
psql -qX -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "CREATE EXTENSION IF NOT EXISTS pgtap" >/dev/null

echo "== pgTAP"
mkdir -p test-output
(eval "$($PY scripts/dburl.py --env "$DATABASE_URL")"; pg_prove --ext .sql -r tests/sql) 2>&1 | tee test-output/pg_prove.log
# pg_prove exits 0 when it found no test file at all: a run that tests nothing fails.
if grep -q '^Files=0' test-output/pg_prove.log || ! grep -q '^Result: PASS' test-output/pg_prove.log; then
    echo "pgTAP: no passing run (see above)" >&2
    exit 1
fi

echo "== pytest"
$PY -m pytest "$@"
