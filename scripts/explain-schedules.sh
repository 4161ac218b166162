#!/usr/bin/env bash
# The plans of booking.list_appointments (GET /appointments), as PostgreSQL runs them inside
# the function (auto_explain, nested statements), over a realistic table: written to
# docs/bench/explain-barber-week.txt.
#
#   DATABASE_URL=postgresql://... scripts/explain-schedules.sh [ROWS]
#
# DATABASE_URL: a superuser URL of a migrated database that may be filled (use a scratch
# one: it adds ROWS appointments, default 200000, over 200 barbers and 2000 clients, 2030
# on, and leaves them). The plans: a barber's week (barber filter, as its barber), a
# client's list (first page and a page after a cursor), and a status filter.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set}"
ROWS=${1:-200000}
OUT=docs/bench/explain-barber-week.txt

psql -qX -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL >/dev/null
INSERT INTO booking.barbers (id, name) SELECT 7000 + b, 'Explain ' || b FROM generate_series(1, 200) b
    ON CONFLICT DO NOTHING;
INSERT INTO booking.staff (user_id, role, barber_id) VALUES (870001, 'barber', 7001) ON CONFLICT DO NOTHING;
-- Barber b's n-th appointment: every 45 minutes from 2030-01-01, cancelled one in seven.
INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status)
SELECT 7000 + 1 + n % 200, 880000 + (n * 7919) % 2000, 'Haircut',
       timestamptz '2030-01-01 00:00Z' + (n / 200) * interval '45 minutes', 30,
       CASE WHEN n % 7 = 0 THEN 'cancelled' ELSE 'scheduled' END
FROM generate_series(0, $ROWS - 1) n
WHERE NOT EXISTS (SELECT 1 FROM booking.appointments a WHERE a.barber_id BETWEEN 7001 AND 7200);
VACUUM ANALYZE booking.appointments;
SQL

SQL=$(cat <<'SQL'
-- 1. A barber's week, as that barber (user 870001, barber 7001), first page.
SELECT count(*) FROM booking.list_appointments(870001, p_barber_id => 7001,
    p_from => '2030-01-14 00:00Z', p_to => '2030-01-21 00:00Z', p_limit => 51);
-- 2. A client's list (user 880005), first page and the page after a cursor.
SELECT count(*) FROM booking.list_appointments(880005, p_limit => 51);
SELECT count(*) FROM booking.list_appointments(880005, p_after_start => '2030-01-14 00:00Z', p_after_id => 1,
    p_limit => 51);
-- 3. The barber's cancelled appointments of a whole year.
SELECT count(*) FROM booking.list_appointments(870001, p_barber_id => 7001, p_status => 'cancelled',
    p_from => '2030-01-01 00:00Z', p_to => '2031-01-01 00:00Z', p_limit => 51);
SQL
)
PRELUDE="LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on; SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice; SET client_min_messages = notice;
SET booking.acting_role = 'barber';"
# Warm the session's plan cache first (a PL/pgSQL statement's plan is generic after five
# calls): the plans shown are the ones the service's connections keep running.
WARM=$(for _ in 1 2 3 4 5 6; do echo "$SQL"; done | sed "s/^SELECT count/SELECT count/")
{
    echo "-- $(psql -qXAt "$DATABASE_URL" -c "SELECT to_char(count(*), 'FM999,999,999') FROM booking.appointments") existing appointments; $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo "-- made by scripts/explain-schedules.sh: booking.list_appointments' statements as it runs"
    echo "-- them (auto_explain, nested statements, after the plan cache is warm)."
    echo
    echo "$SQL"
    echo
    # Only the plans of the function's listing statements and of the calls (not those of
    # the helpers it calls per row, booking.actor_role's, nor of the checks of arguments).
    psql -qX -v ON_ERROR_STOP=1 "$DATABASE_URL" 2>&1 >/dev/null <<EOSQL | sed 's/^NOTICE:  //' |
SET booking.acting_role = 'barber';
$WARM
$PRELUDE
$SQL
EOSQL
        awk '/^duration: / { if (keep) printf "%s", block; block = ""; keep = 0 }
             /^Query Text: (SELECT [rux]\.\*|SELECT count)/ { keep = 1 }
             { block = block $0 "\n" }
             END { if (keep) printf "%s", block }'
} > "$OUT"
echo "wrote $OUT"
