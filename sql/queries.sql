-- Every statement the Python service sends, by name (loaded by app/queries.py).
-- Each block starts with `-- name: <name>`, then comment lines saying what it does, then
-- the SQL. The business rules live in the functions these call; these only shape rows.
-- Appointment rows come back with end_time and the local booking_date/booking_time in
-- the barber's time zone (the zone conversion stays in SQL).
--
-- The three writes carry the service's settings as their last four parameters (lock wait
-- bound as text, application-side checks 'on'|'off', idempotency key lifetime as text, the
-- acting role: the bearer token's role, booking.acting_role) and make them
-- transaction-local in a `settings` CTE. The function's first argument reads that
-- CTE, so the settings are in force before the function runs: settings and call are one
-- statement, one round trip, in the statement's own transaction (or the caller's).

-- name: create_booking
-- Book: the local date and time are read in the barber's zone (booking.local_start) and
-- booked in the same statement. The advisory-lock wait is read back for the metrics.
-- $1 barber_id, $2 user_id, $3 service, $4 booking_date and $5 booking_time as text
-- (asyncpg would send Python's date.max as 'infinity'), $6 buffer before, $7 buffer after,
-- $8 notes, $9 idempotency key (scoped to the user by the function), $10-$13 the settings.
WITH settings AS MATERIALIZED (
    SELECT set_config('booking.lock_timeout', $10::text, true) AS lock_timeout,
           set_config('booking.application_checks', $11::text, true) AS application_checks,
           set_config('booking.idempotency_key_ttl', $12::text, true) AS idempotency_key_ttl,
           set_config('booking.acting_role', $13::text, true) AS acting_role)
SELECT b.id, b.barber_id, b.user_id, b.service_name, b.start_time,
       b.start_time + make_interval(mins => b.duration_minutes) AS end_time,
       b.duration_minutes, b.buffer_time_before, b.buffer_time_after, b.status, b.notes,
       b.version, b.created_at, b.updated_at,
       (b.start_time AT TIME ZONE z.timezone)::date AS booking_date,
       (b.start_time AT TIME ZONE z.timezone)::time AS booking_time,
       z.timezone, b.replayed,
       nullif(current_setting('booking.last_lock_wait_ms', true), '') AS lock_wait_ms
FROM booking.book_appointment((SELECT $1::bigint FROM settings), $2::bigint, $3::text,
                              booking.local_start($1::bigint, $4::text::date, $5::text::time),
                              $6::int, $7::int, $8::text, $9::text) AS b
LEFT JOIN LATERAL (SELECT br.timezone FROM booking.barbers br WHERE br.id = b.barber_id) AS z ON true;

-- name: update_booking
-- Change an appointment as user $2: $3 is the JSON object of changes (update_appointment
-- refuses unknown keys and bad values), $4 the expected version or NULL, $5-$8 the settings.
WITH settings AS MATERIALIZED (
    SELECT set_config('booking.lock_timeout', $5::text, true) AS lock_timeout,
           set_config('booking.application_checks', $6::text, true) AS application_checks,
           set_config('booking.idempotency_key_ttl', $7::text, true) AS idempotency_key_ttl,
           set_config('booking.acting_role', $8::text, true) AS acting_role)
SELECT a.id, a.barber_id, a.user_id, a.service_name, a.start_time,
       a.start_time + make_interval(mins => a.duration_minutes) AS end_time,
       a.duration_minutes, a.buffer_time_before, a.buffer_time_after, a.status, a.notes,
       a.version, a.created_at, a.updated_at,
       (a.start_time AT TIME ZONE z.timezone)::date AS booking_date,
       (a.start_time AT TIME ZONE z.timezone)::time AS booking_time,
       z.timezone, false AS replayed,
       nullif(current_setting('booking.last_lock_wait_ms', true), '') AS lock_wait_ms
FROM booking.update_appointment((SELECT $1::bigint FROM settings), $2::bigint, $3::text::jsonb, $4::int) AS a
LEFT JOIN LATERAL (SELECT br.timezone FROM booking.barbers br WHERE br.id = a.barber_id) AS z ON true;

-- name: cancel_booking
-- Cancel appointment $1 as user $2, at expected version $3 (or NULL), $4-$7 the settings.
WITH settings AS MATERIALIZED (
    SELECT set_config('booking.lock_timeout', $4::text, true) AS lock_timeout,
           set_config('booking.application_checks', $5::text, true) AS application_checks,
           set_config('booking.idempotency_key_ttl', $6::text, true) AS idempotency_key_ttl,
           set_config('booking.acting_role', $7::text, true) AS acting_role)
SELECT a.id, a.barber_id, a.user_id, a.service_name, a.start_time,
       a.start_time + make_interval(mins => a.duration_minutes) AS end_time,
       a.duration_minutes, a.buffer_time_before, a.buffer_time_after, a.status, a.notes,
       a.version, a.created_at, a.updated_at,
       (a.start_time AT TIME ZONE z.timezone)::date AS booking_date,
       (a.start_time AT TIME ZONE z.timezone)::time AS booking_time,
       z.timezone, false AS replayed,
       NULL::text AS lock_wait_ms
FROM booking.cancel_appointment((SELECT $1::bigint FROM settings), $2::bigint, $3::int) AS a
LEFT JOIN LATERAL (SELECT br.timezone FROM booking.barbers br WHERE br.id = a.barber_id) AS z ON true;

-- name: get_booking
-- Appointment $1 as user $2, acting as $3 (the token's role), sees it; no row when absent
-- or not visible (booking.actor_role).
WITH settings AS MATERIALIZED (SELECT set_config('booking.acting_role', $3::text, true) AS acting_role)
SELECT a.id, a.barber_id, a.user_id, a.service_name, a.start_time,
       a.start_time + make_interval(mins => a.duration_minutes) AS end_time,
       a.duration_minutes, a.buffer_time_before, a.buffer_time_after, a.status, a.notes,
       a.version, a.created_at, a.updated_at,
       (a.start_time AT TIME ZONE z.timezone)::date AS booking_date,
       (a.start_time AT TIME ZONE z.timezone)::time AS booking_time,
       z.timezone, false AS replayed
FROM booking.get_appointment((SELECT $1::bigint FROM settings), $2::bigint) AS a
LEFT JOIN LATERAL (SELECT br.timezone FROM booking.barbers br WHERE br.id = a.barber_id) AS z ON true;

-- name: authenticate_token
-- The caller of a bearer token, from the SHA-256 of the token; no row when unknown,
-- expired or revoked.
SELECT t.user_id, t.role, t.barber_id FROM booking.authenticate_token($1::bytea) AS t;

-- name: authenticate_tokens
-- The callers of several tokens at once (SHA-256 hashes $1), for re-checking the tokens of
-- open event streams in one query: user_id etc. NULL for a token no longer valid.
SELECT t.token_hash, a.user_id, a.role, a.barber_id
FROM unnest($1::bytea[]) AS t(token_hash)
LEFT JOIN LATERAL booking.authenticate_token(t.token_hash) AS a ON true;

-- name: free_slots
-- Free start times of barber $1 on local date $2 (text, see create_booking) for service $3
-- with buffers $4/$5; $1 NULL is "any barber": the union over the barbers who offer it.
SELECT s.start_time, s.end_time
FROM booking.free_slots($1::bigint, $2::text::date, $3::text, $4::int, $5::int) AS s
ORDER BY s.start_time;

-- name: events_since
-- The change feed of barber $1 after event id $2 (for Last-Event-ID replay).
SELECT e.id, e.barber_id, e.appointment_id, e.kind, e.payload::text AS payload, e.created_at
FROM booking.events_since($1::bigint, $2::bigint) AS e
ORDER BY e.id;

-- name: purge_idempotency_keys
-- Delete idempotency keys past their expiry; returns how many.
SELECT booking.purge_expired_idempotency_keys();

-- name: purge_appointment_events
-- Delete change-feed events older than the operator's retention policy; returns how many.
SELECT booking.purge_expired_appointment_events();

-- name: health
-- The database answers.
SELECT 1;

-- name: current_role
-- Which role the pooled connection runs as.
SELECT current_user::text;

-- name: barber_exists
-- One row when barber $1 exists (the events stream answers 404 otherwise).
SELECT 1 FROM booking.barbers WHERE id = $1::bigint;

-- name: latest_event_id
-- The barber's newest change-feed event id: where a stream without Last-Event-ID starts.
SELECT booking.latest_event_id($1);

-- name: list_barbers
-- Every barber, for the booking page's picker: id, name and IANA time zone, by id.
SELECT b.id, b.name, b.timezone FROM booking.barbers b ORDER BY b.id;

-- name: list_services
-- Every service, for the booking page's picker: name, length and price, by name.
SELECT s.name, s.duration_minutes, s.price_cents FROM booking.services s ORDER BY s.name;
