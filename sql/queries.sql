-- Every statement the Python service sends, by name (loaded by app/queries.py; the model is
-- procrastinate's queries.sql). Each block starts with `-- name: <name>`, then comment lines
-- saying what it does, then the SQL. The rules live in the functions these call; an
-- appointment comes back as a row of booking.appointment_records (the one definition of
-- its shape), and app.records turns each row into its typed record.
--
-- The writes carry the service's settings (lock wait bound, application-side checks
-- 'on'|'off', idempotency key lifetime, the acting role: the bearer token's role) through
-- booking.with_settings(), which makes them transaction-local and returns its first
-- argument: settings and call are one statement, one round trip, in the statement's own
-- transaction (or the caller's). The reads that depend on who acts do the same.

-- name: create_booking
-- Book: $4 booking_date and $5 booking_time, as text, are read by the engine (what is a
-- real date and time is SQL's rule) in the barber's zone (any barber: the zone of shop
-- $10's barbers); $9 the idempotency key (the function scopes it to the user); $10 the shop
-- (NULL: the barber's, or the default shop); $11-$14 the settings. The lock wait goes to
-- the metrics.
SELECT b.*, current_setting('booking.last_lock_wait_ms', true) AS lock_wait_ms
FROM booking.book_appointment(booking.with_settings($1::bigint, $11, $12, $13, $14), $2, $3,
         booking.local_start($1, booking.parse_local_date('booking_date', $4), booking.parse_local_time('booking_time', $5),
                             $10::bigint),
         $6, $7, $8, $9, $10::bigint) AS b;

-- name: hold_slot
-- Hold a slot (booking.hold_slot): create_booking's arguments and answer, the row a hold
-- (status 'held', hold_expires_at).
SELECT b.*, current_setting('booking.last_lock_wait_ms', true) AS lock_wait_ms
FROM booking.hold_slot(booking.with_settings($1::bigint, $11, $12, $13, $14), $2, $3,
         booking.local_start($1, booking.parse_local_date('booking_date', $4), booking.parse_local_time('booking_time', $5),
                             $10::bigint),
         $6, $7, $8, $9, $10::bigint) AS b;

-- name: confirm_hold
-- Confirm hold $1 as user $2 (booking.confirm_hold): the appointment; $3-$6 the settings.
SELECT a.*, NULL::text AS lock_wait_ms
FROM booking.confirm_hold(booking.with_settings($1::bigint, $3, $4, $5, $6), $2) AS a;

-- name: book_series
-- A recurring booking (booking.book_series): barber $1, user $2, service $3, the first local
-- date $4 and the local time $5 as text (read like create_booking's), every $6 weeks, $7
-- occurrences, buffers $8/$9, notes $10, key $11; $12-$15 the settings. All the rows.
SELECT b.*, current_setting('booking.last_lock_wait_ms', true) AS lock_wait_ms
FROM booking.book_series(booking.with_settings($1::bigint, $12, $13, $14, $15), $2, $3,
         booking.parse_local_date('booking_date', $4), booking.parse_local_time('booking_time', $5),
         $6, $7, $8, $9, $10, $11) AS b;

-- name: cancel_following
-- Cancel appointment $1 and the later ones of its series as user $2 (booking.cancel_following);
-- $3-$6 the settings.
SELECT a.*, NULL::text AS lock_wait_ms
FROM booking.cancel_following(booking.with_settings($1::bigint, $3, $4, $5, $6), $2) AS a;

-- name: update_booking
-- Change appointment $1 as user $2: $3 the JSON object of changes, $4 the expected version
-- or NULL, $5-$8 the settings.
SELECT a.*, current_setting('booking.last_lock_wait_ms', true) AS lock_wait_ms
FROM booking.update_appointment(booking.with_settings($1::bigint, $5, $6, $7, $8), $2, $3::text::jsonb, $4) AS a;

-- name: cancel_booking
-- Cancel appointment $1 as user $2, at expected version $3 (or NULL), $4-$7 the settings.
SELECT a.*, NULL::text AS lock_wait_ms
FROM booking.cancel_appointment(booking.with_settings($1::bigint, $4, $5, $6, $7), $2, $3) AS a;

-- name: get_booking
-- Appointment $1 as user $2, acting as $3 (the token's role), sees it; no row when absent
-- or not visible (booking.actor_role).
SELECT a.* FROM booking.get_appointment(booking.with_settings($1::bigint, NULL, NULL, NULL, $3), $2) AS a;

-- name: authenticate_token
-- The caller of a bearer token, from the SHA-256 of the token; no row when unknown,
-- expired or revoked. valid_until: the token's expiry (a cache must not outlive it).
SELECT t.user_id, t.role, t.barber_id, t.valid_until, t.shop_id FROM booking.authenticate_token($1::bytea) AS t;

-- name: authenticate_tokens
-- The callers of several tokens at once (SHA-256 hashes $1), for re-checking the tokens of
-- open event streams in one query: user_id etc. NULL for a token no longer valid.
SELECT t.token_hash, a.user_id, a.role, a.barber_id
FROM unnest($1::bytea[]) AS t(token_hash)
LEFT JOIN LATERAL booking.authenticate_token(t.token_hash) AS a ON true;

-- name: free_slots
-- Free start times of barber $1 on local date $2 (text, read like create_booking's) for
-- service $3 with buffers $4/$5; $1 NULL is "any barber" of shop $6 (NULL: the default
-- shop): the union over those who offer it. A named barber must be of shop $6 when given.
SELECT s.start_time, s.end_time
FROM booking.free_slots($1::bigint, booking.parse_local_date('date', $2), $3::text, $4::int, $5::int, 15, $6::bigint) AS s
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

-- name: server_address
-- The database answers, and which server did (host:port; NULL over a Unix socket): for /health,
-- over a multi-host URL the primary (app/ha.py).
SELECT host(inet_server_addr()) || ':' || inet_server_port();

-- name: change_feed_status
-- How far behind the change feed is (for /health).
SELECT s.mode, s.slot_status, s.lag_bytes, s.pending_changes, s.oldest_pending, s.relayed_at, s.latest_event_id
FROM booking.change_feed_status() AS s;

-- name: current_role
-- Which role the pooled connection runs as.
SELECT current_user::text;

-- name: barber_exists
-- One row when barber $1 exists (the events stream answers 404 otherwise).
SELECT 1 FROM booking.get_barber($1::bigint);

-- name: latest_event_id
-- The barber's newest change-feed event id: where a stream without Last-Event-ID starts.
SELECT booking.latest_event_id($1);

-- name: list_barbers
-- The barbers of shop $1, for the booking page's picker: id, name, IANA time zone, by id.
SELECT b.id, b.name, b.timezone, b.shop_id FROM booking.list_barbers($1::bigint) AS b;

-- name: list_services
-- The services of shop $1, for the booking page's picker: name, length and price, by name.
SELECT s.name, s.duration_minutes, s.price_cents, s.shop_id FROM booking.list_services($1::bigint) AS s;

-- name: list_appointments
-- A page of the appointments user $1, acting as $2 (the token's role), may see, oldest
-- first (booking.list_appointments): barber $3 (NULL: any), start in [$4, $5) (NULL:
-- unbounded), status $6 (NULL: any), after the key ($7 start, $8 id) of the previous
-- page's last row (NULL: from the start), at most $9 rows.
SELECT a.*
FROM booking.list_appointments(booking.with_settings($1::bigint, NULL, NULL, NULL, $2), $3::bigint,
         $4::timestamptz, $5::timestamptz, $6::text, $7::timestamptz, $8::bigint, $9::int) AS a;

-- name: calendar_feed
-- The rows of barber $1's calendar feed (booking.calendar_feed): by feed key (SHA-256 $3),
-- or for user $2 acting as $4 (a staff token) when $3 is NULL; starts in [$5, $6) (NULL:
-- the default window, 30 days ago to 365 days ahead).
SELECT f.*
FROM booking.calendar_feed(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bigint, $3::bytea,
         $5::timestamptz, $6::timestamptz) AS f;

-- name: issue_calendar_key
-- A new key (SHA-256 $2) for barber $1's calendar feed, issued by user $3 acting as $4;
-- returns the key's id.
SELECT booking.issue_calendar_key(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bytea, $3::bigint);

-- name: revoke_calendar_key
-- Revoke key $2 of barber $1's calendar feed, as user $3 acting as $4; true when this call
-- revoked it, false when it was revoked already.
SELECT booking.revoke_calendar_key(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bigint, $3::bigint);

-- name: appointment_calendar
-- Appointment $1 as user $2, acting as $3, sees it (get_booking's rule), with its barber's
-- name: what GET /appointments/{id}.ics writes. No row when absent or not visible.
SELECT a.*, b.name AS barber_name
FROM booking.get_appointment(booking.with_settings($1::bigint, NULL, NULL, NULL, $3), $2) AS a
LEFT JOIN LATERAL booking.get_barber(a.barber_id) AS b ON true;

-- name: create_barber
-- A new barber of shop $1 named $2 in zone $3 (NULL: the shop's), by user $4 acting as $5
-- (booking.create_barber): id, name, timezone, shop_id.
SELECT b.id, b.name, b.timezone, b.shop_id
FROM booking.create_barber(booking.with_settings($1::bigint, NULL, NULL, NULL, $5), $2::text, $3::text, $4::bigint) AS b;

-- name: create_service
-- A new service of shop $1: name $2, $3 minutes, $4 cents (NULL: 0), by user $5 acting as
-- $6 (booking.create_service).
SELECT s.id, s.name, s.duration_minutes, s.price_cents, s.shop_id
FROM booking.create_service(booking.with_settings($1::bigint, NULL, NULL, NULL, $6), $2::text, $3::int,
         coalesce($4::int, 0), $5::bigint) AS s;

-- name: set_working_hours
-- Replace barber $1's working hours with the JSON array $2, by user $3 acting as $6, with
-- force $4 and expected version $5 (NULL: any) (booking.set_working_hours): the new rows,
-- whose greatest id is the new version (booking.working_hours_version).
SELECT h.id, h.weekday::int AS weekday, h.opens_at, h.closes_at
FROM booking.set_working_hours(booking.with_settings($1::bigint, NULL, NULL, NULL, $6), $2::text::jsonb, $3::bigint,
         $4::boolean, $5::bigint) AS h;

-- name: get_working_hours
-- Barber $1's working hours as user $2, acting as $3, may read them (booking.get_working_hours),
-- each row with the version.
SELECT h.weekday, h.opens_at, h.closes_at, h.version
FROM booking.get_working_hours(booking.with_settings($1::bigint, NULL, NULL, NULL, $3), $2::bigint) AS h;

-- name: add_time_off
-- Time off for barber $1 from $2 to $3, reason $4, by user $5 acting as $7, force $6
-- (booking.add_time_off).
SELECT t.id, t.barber_id, lower(t.during) AS start, upper(t.during) AS "end", t.reason
FROM booking.add_time_off(booking.with_settings($1::bigint, NULL, NULL, NULL, $7),
         $2::timestamptz, $3::timestamptz, $4::text, $5::bigint, $6::boolean) AS t;

-- name: list_time_off
-- Barber $1's time off that has not ended, as user $2, acting as $3, may read it
-- (booking.list_time_off).
SELECT t.id, t.barber_id, lower(t.during) AS start, upper(t.during) AS "end", t.reason
FROM booking.list_time_off(booking.with_settings($1::bigint, NULL, NULL, NULL, $3), $2::bigint) AS t;

-- name: shop_policy
-- Shop $1's booking policy (no row: unknown shop).
SELECT p.* FROM booking.shop_policy($1::bigint) AS p;

-- name: set_shop_policy
-- Replace shop $1's booking policy ($2 notice minutes, $3 advance days or NULL, $4 cancel
-- and $5 reschedule cut-off minutes) as admin $6, acting as $7.
SELECT p.* FROM booking.set_shop_policy(booking.with_settings($1::bigint, NULL, NULL, NULL, $7), $2, $3, $4, $5, $6) AS p;

-- name: create_webhook
-- Subscribe URL $2 to shop $1's events $3 (NULL: all) as admin $4, acting as $5
-- (booking.create_webhook); the one answer that carries the secret.
SELECT w.* FROM booking.create_webhook(booking.with_settings($1::bigint, NULL, NULL, NULL, $5), $2::text, $3::text[], $4::bigint) AS w;

-- name: list_webhooks
-- Shop $1's webhook subscriptions and their delivery state, as admin $2, acting as $3.
SELECT w.* FROM booking.list_webhooks(booking.with_settings($1::bigint, NULL, NULL, NULL, $3), $2::bigint) AS w;

-- name: rotate_webhook_secret
-- A new secret for shop $1's webhook $2 (the old one valid 24 hours more), as admin $3, acting as $4.
SELECT w.* FROM booking.rotate_webhook_secret(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bigint, $3::bigint) AS w;

-- name: delete_webhook
-- Remove shop $1's webhook $2 and its deliveries, as admin $3, acting as $4.
SELECT booking.delete_webhook(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bigint, $3::bigint);

-- name: disable_webhook
-- Stop shop $1's webhook $2, as admin $3, acting as $4.
SELECT w.* FROM booking.disable_webhook(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bigint, $3::bigint) AS w;

-- name: enable_webhook
-- Enable shop $1's webhook $2 again and replay since $3 (NULL: since it was disabled), as admin $4, acting as $5.
SELECT w.* FROM booking.enable_webhook(booking.with_settings($1::bigint, NULL, NULL, NULL, $5), $2::bigint,
         $3::timestamptz, $4::bigint) AS w;

-- name: send_test_webhook
-- Queue a webhook.test message for shop $1's webhook $2, as admin $3, acting as $4; the message id.
SELECT booking.send_test_webhook(booking.with_settings($1::bigint, NULL, NULL, NULL, $4), $2::bigint, $3::bigint);

-- name: list_webhook_deliveries
-- Shop $1's webhook $2's deliveries with status $3 (NULL: all) created before $4, at most $5,
-- newest first, as admin $6, acting as $7.
SELECT d.* FROM booking.list_webhook_deliveries(booking.with_settings($1::bigint, NULL, NULL, NULL, $7), $2::bigint,
         $3::text, $4::timestamptz, $5::int, $6::bigint) AS d;

-- name: start_appointment
-- Mark appointment $1 started as user $2, at expected version $3 (or NULL)
-- (booking.start_appointment); $4-$7 the settings.
SELECT a.*, NULL::text AS lock_wait_ms
FROM booking.start_appointment(booking.with_settings($1::bigint, $4, $5, $6, $7), $2, $3) AS a;

-- name: finish_appointment
-- Mark appointment $1 finished as user $2, at expected version $3 (or NULL)
-- (booking.finish_appointment); $4-$7 the settings.
SELECT a.*, NULL::text AS lock_wait_ms
FROM booking.finish_appointment(booking.with_settings($1::bigint, $4, $5, $6, $7), $2, $3) AS a;

-- name: service_durations
-- Barber $1's finished appointments per service since $4 (NULL: 180 days), as user $2,
-- acting as $3, may read them (booking.service_durations): what buffers are learned from.
SELECT d.* FROM booking.service_durations(booking.with_settings($1::bigint, NULL, NULL, NULL, $3), $2::bigint,
         $4::timestamptz) AS d;

-- name: set_service_buffers
-- Default buffers $3/$4 of barber $1's service $2, with basis $5 (JSON text or NULL), set by
-- admin $6 acting as $7 (booking.set_service_buffers).
SELECT d.* FROM booking.set_service_buffers(booking.with_settings($1::bigint, NULL, NULL, NULL, $7), $2::text,
         $3::int, $4::int, $5::text::jsonb, $6::bigint) AS d;

-- name: slot_demand
-- What the conflict model reads about barber $1's demand now, for local date $2 (text)
-- (booking.slot_demand).
SELECT d.* FROM booking.slot_demand($1::bigint, booking.parse_local_date('date', $2)) AS d;

-- name: record_booking_attempt
-- A refused booking of barber $1 (NULL: any barber of shop $2) for service $3 at local date
-- $4 and time $5 (text, read like create_booking's), recorded after the refusal in its own
-- transaction (booking.record_booking_attempt).
SELECT booking.record_booking_attempt($1::bigint, $2::bigint, $3::text,
         booking.local_start($1::bigint, booking.parse_local_date('booking_date', $4),
                             booking.parse_local_time('booking_time', $5), $2::bigint));

-- name: booking_history
-- Shop $1's history since $2 (NULL: 365 days) in the trace format (booking.booking_history):
-- `python -m app learn export|train`, an operator's command, not the service's.
SELECT h.* FROM booking.booking_history($1::bigint, $2::timestamptz) AS h;
