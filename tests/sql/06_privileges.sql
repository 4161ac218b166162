-- Roles, ownership and privileges as sql/grants.sql defines them: booking_app and
-- booking_client read the reference tables and appointments and call the functions, but
-- write nothing directly; PUBLIC gets nothing; booking_owner owns everything; SECURITY
-- DEFINER functions pin their search_path.
BEGIN;
SELECT plan(69);
\ir fixtures.psql

-- Roles.
SELECT has_role(r, 'role ' || r || ' exists') FROM unnest(ARRAY['booking_owner', 'booking_app', 'booking_client']) AS r;
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'booking_app'), true, 'booking_app can log in');
SELECT is_empty($$SELECT rolname FROM pg_roles
                   WHERE rolname IN ('booking_app', 'booking_client')
                     AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb
                          OR pg_has_role(rolname, 'booking_owner', 'USAGE'))$$,
                'booking_app and booking_client have no special attributes and do not act as booking_owner');

-- Ownership.
SELECT schema_owner_is('booking', 'booking_owner', 'booking_owner owns schema booking');
SELECT table_owner_is('booking', 'appointments', 'booking_owner', 'booking_owner owns booking.appointments');
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class c
                   WHERE c.relnamespace = 'booking'::regnamespace AND c.relowner <> 'booking_owner'::regrole$$,
                'booking_owner owns every relation of schema booking (tables, sequences, indexes)');
SELECT function_owner_is('booking', 'book_appointment',
                         ARRAY['bigint', 'bigint', 'text', 'timestamp with time zone', 'integer', 'integer', 'text', 'text', 'bigint'],
                         'booking_owner', 'booking_owner owns booking.book_appointment');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'booking'::regnamespace AND p.proowner <> 'booking_owner'::regrole$$,
                'booking_owner owns every function of schema booking');

-- SECURITY DEFINER functions run as booking_owner with a search_path they pin themselves,
-- ending in pg_temp so no caller's temporary object can shadow pg_catalog or booking.
SELECT is_definer('booking', f, args, format('booking.%s is SECURITY DEFINER', f))
FROM (VALUES
    ('book_appointment', ARRAY['bigint', 'bigint', 'text', 'timestamp with time zone', 'integer', 'integer', 'text', 'text', 'bigint']),
    ('update_appointment', ARRAY['bigint', 'bigint', 'jsonb', 'integer']),
    ('cancel_appointment', ARRAY['bigint', 'bigint', 'integer']),
    ('check_appointment_overlap', ARRAY[]::text[])
) AS v(f, args);
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'booking'::regnamespace AND p.prosecdef
                     AND NOT coalesce(p.proconfig && ARRAY['search_path=pg_catalog, pg_temp', 'search_path=pg_catalog, booking, pg_temp'], false)$$,
                'every SECURITY DEFINER function pins search_path to pg_catalog(, booking), pg_temp');

-- Schema privileges.
SELECT schema_privs_are('booking', r, p, format('%s has %s on schema booking', r, coalesce(nullif(array_to_string(p, ', '), ''), 'nothing')))
FROM (VALUES ('booking_app', ARRAY['USAGE']), ('booking_client', ARRAY['USAGE']), ('public', ARRAY[]::text[])) AS v(r, p);

-- Table privileges: SELECT on the reference tables, nothing else (appointments, with every
-- user's notes, are read through the functions that apply the visibility rules). The set
-- comparisons cover every table and sequence of the schema, present and future.
SELECT table_privs_are('booking', t, r, CASE WHEN r = 'public' OR t <> 'barbers' THEN ARRAY[]::text[] ELSE ARRAY['SELECT'] END,
                       format('%s may %s booking.%s', r, CASE WHEN r = 'public' OR t <> 'barbers' THEN 'do nothing with' ELSE 'only SELECT' END, t))
FROM unnest(ARRAY['appointments', 'staff', 'barbers']) AS t
CROSS JOIN unnest(ARRAY['booking_app', 'booking_client', 'public']) AS r;
SELECT set_eq(
    format($$SELECT c.relname::text, p FROM pg_class c,
                    unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
              WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
                AND has_table_privilege(%L, c.oid, p)$$, r),
    $$VALUES ('shops', 'SELECT'), ('barbers', 'SELECT'), ('services', 'SELECT'), ('error_codes', 'SELECT'),
             ('time_zones', 'SELECT')$$,
    r || ' may only SELECT shops, barbers, services, error_codes and time_zones; nothing on any other table')
FROM unnest(ARRAY['booking_app', 'booking_client']) AS r;
SELECT is_empty($$SELECT c.oid::regclass, p FROM pg_class c,
                         unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
                   WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
                     AND has_table_privilege('public', c.oid, p)$$,
                'PUBLIC has no privilege on any table of schema booking');
SELECT is_empty($$SELECT c.oid::regclass, r FROM pg_class c, unnest(ARRAY['booking_app', 'booking_client', 'public']) AS r
                   WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind = 'S'
                     AND has_sequence_privilege(r, c.oid, 'USAGE, SELECT, UPDATE')$$,
                'nobody but the owner may use the sequences');

-- Function privileges.
SELECT function_privs_are('booking', f, args, r,
                          CASE WHEN r = 'public' OR (f = 'authenticate_token' AND r = 'booking_client')
                               THEN ARRAY[]::text[] ELSE ARRAY['EXECUTE'] END,
                          format('%s %s booking.%s', r,
                                 CASE WHEN r = 'public' OR (f = 'authenticate_token' AND r = 'booking_client')
                                      THEN 'may not execute' ELSE 'may execute' END, f))
FROM (VALUES
    ('book_appointment', ARRAY['bigint', 'bigint', 'text', 'timestamp with time zone', 'integer', 'integer', 'text', 'text', 'bigint']),
    ('authenticate_token', ARRAY['bytea'])
) AS v(f, args)
CROSS JOIN unnest(ARRAY['booking_app', 'booking_client', 'public']) AS r;
SELECT set_eq(
    format($$SELECT p.proname::text FROM pg_proc p
              WHERE p.pronamespace = 'booking'::regnamespace AND has_function_privilege(%L, p.oid, 'EXECUTE')$$, r),
    CASE r WHEN 'booking_app' THEN ARRAY['authenticate_token', 'relay_change_feed', 'open_logical_change_feed',
                                         'open_outbox_change_feed', 'change_feed_status',
                                         'claim_webhook_deliveries', 'finish_webhook_delivery', 'webhook_backlog',
                                         'purge_webhook_deliveries', 'record_booking_attempt'] ELSE ARRAY[]::text[] END
        || ARRAY['book_appointment', 'hold_slot', 'confirm_hold', 'book_series', 'cancel_following', 'update_appointment', 'cancel_appointment', 'get_appointment', 'list_appointments', 'local_start',
                 'purge_expired_idempotency_keys', 'purge_expired_appointment_events', 'free_slots', 'events_since',
                 'latest_event_id', 'blocked_interval', 'with_settings', 'parse_local_date', 'parse_local_time',
                 'create_barber', 'create_service', 'set_working_hours', 'add_time_off', 'set_hold_minutes', 'set_shop_policy', 'set_service_policy', 'shop_policy', 'effective_policy',
                 'get_working_hours', 'list_time_off',
                 'list_barbers', 'list_services', 'get_barber', 'shop_of_id',
                 'calendar_feed', 'issue_calendar_key', 'revoke_calendar_key',
                 'create_webhook', 'list_webhooks', 'rotate_webhook_secret', 'delete_webhook', 'disable_webhook',
                 'enable_webhook', 'send_test_webhook', 'list_webhook_deliveries',
                 'start_appointment', 'finish_appointment', 'service_durations', 'set_service_buffers', 'slot_demand']
        || CASE r WHEN 'booking_client' THEN ARRAY['create_shop'] ELSE ARRAY[]::text[] END,
    r || ' may execute these functions of schema booking and no other')
FROM unnest(ARRAY['booking_app', 'booking_client']) AS r;
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'booking'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
                'PUBLIC may execute no function of schema booking');

-- What the privileges mean in practice, as booking_app.
SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SET LOCAL ROLE booking_app;
SELECT is(current_user::text, 'booking_app', 'now acting as booking_app');
SELECT throws_ok(sql, '42501', NULL, 'booking_app: ' || d || ' is refused (42501)')
FROM (VALUES
    ($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
       VALUES (9001, 1001, 'TAP Haircut', '2030-06-04 10:00Z', 30)$$, 'a direct INSERT into appointments'),
    (format($$UPDATE booking.appointments SET start_time = start_time + interval '1 hour' WHERE id = %s$$, :a),
     'a direct UPDATE of appointments'),
    (format($$DELETE FROM booking.appointments WHERE id = %s$$, :a), 'a direct DELETE from appointments'),
    ($$TRUNCATE booking.appointments$$, 'TRUNCATE appointments'),
    ($$ALTER TABLE booking.appointments DISABLE TRIGGER appointments_check_overlap$$, 'disabling the overlap trigger'),
    ($$INSERT INTO booking.barbers (name) VALUES ('Intruder')$$, 'an INSERT into barbers'),
    ($$UPDATE booking.error_codes SET message = 'x'$$, 'an UPDATE of error_codes'),
    ($$SELECT * FROM booking.api_tokens$$, 'reading api_tokens'),
    ($$SELECT * FROM booking.idempotency_keys$$, 'reading idempotency_keys'),
    ($$INSERT INTO booking.staff (user_id, role) VALUES (1001, 'admin')$$, 'making oneself an admin'),
    ($$SELECT booking.raise_error('slot_conflict')$$, 'calling the internal booking.raise_error()'),
    ($$SELECT booking.take_slot_locks(ARRAY[9001::bigint], ARRAY[tstzrange(now(), now() + interval '1 hour')])$$,
     'calling the internal booking.take_slot_locks()'),
    ($$SELECT booking.create_api_token(sha256('x'), 1001, 'admin')$$, 'minting a token with booking.create_api_token()')
) AS v(sql, d);
SELECT throws_ok(format('SELECT * FROM booking.appointments WHERE id = %s', :a), '42501', NULL,
                 'booking_app may not read appointments directly (other users'' notes)');
SELECT throws_ok($$SELECT booking.purge_old_appointment_events(interval '1 hour')$$, '42501', NULL,
                 'booking_app may not purge the change feed down to an hour');
SELECT lives_ok($$SELECT booking.purge_expired_appointment_events()$$,
                'booking_app may purge what the retention policy lets go');
SELECT results_eq($$SELECT replayed, version FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 12:00Z')$$,
                  $$VALUES (false, 1)$$, 'booking_app books through booking.book_appointment()');
SELECT results_eq(format($$SELECT version FROM booking.update_appointment(%s, 1001, '{"notes": "via the app"}')$$, :a),
                  $$VALUES (2)$$, 'booking_app changes through booking.update_appointment()');
SELECT results_eq(format($$SELECT status FROM booking.cancel_appointment(%s, 1001)$$, :a),
                  $$VALUES ('cancelled'::text)$$, 'booking_app cancels through booking.cancel_appointment()');
SELECT results_eq(format($$SELECT id FROM booking.get_appointment(%s, 1001)$$, :a),
                  format('VALUES (%s::bigint)', :a), 'booking_app reads through booking.get_appointment()');
SELECT is(booking.local_start(9003, '2030-06-03', '10:00'), '2030-06-03 08:00Z'::timestamptz,
          'booking_app calls booking.local_start()');
SELECT lives_ok($$SELECT booking.purge_expired_idempotency_keys()$$, 'booking_app calls booking.purge_expired_idempotency_keys()');
SELECT is_empty($$SELECT * FROM booking.authenticate_token(sha256('no such token'))$$,
                'booking_app calls booking.authenticate_token()');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"notes": "not mine"}')$$, :a),
                 'BK011', NULL, 'the functions still act only for p_user_id');
RESET ROLE;

-- And as booking_client.
SET LOCAL ROLE booking_client;
SELECT throws_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                   VALUES (9001, 1001, 'TAP Haircut', '2030-06-04 10:00Z', 30)$$,
                 '42501', NULL, 'booking_client: a direct INSERT into appointments is refused (42501)');
SELECT throws_ok(format($$UPDATE booking.appointments SET notes = 'x' WHERE id = %s$$, :a),
                 '42501', NULL, 'booking_client: a direct UPDATE is refused (42501)');
SELECT results_eq($$SELECT replayed FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 14:00Z')$$,
                  $$VALUES (false)$$, 'booking_client books through booking.book_appointment()');
SELECT throws_ok($$SELECT * FROM booking.authenticate_token(sha256('x'))$$,
                 '42501', NULL, 'booking_client may not call booking.authenticate_token()');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
