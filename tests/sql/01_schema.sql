-- The schema of the contract (contract.md section 2): tables, columns, types, defaults,
-- checks, the exclusion constraint, the indexes, the triggers and the function signatures.
BEGIN;
SELECT plan(72);

SELECT has_schema('booking');

-- Tables and the contract's columns with their types.
SELECT has_table('booking', t, 'table booking.' || t || ' exists')
FROM unnest(ARRAY['barbers', 'services', 'working_hours', 'appointments']) AS t;

SELECT set_has(
    format($$SELECT column_name::text, data_type::text FROM information_schema.columns
              WHERE table_schema = 'booking' AND table_name = %L$$, tbl),
    'VALUES ' || string_agg(format('(%L, %L)', col, typ), ', '),
    format('booking.%s has the contract''s columns with their types', tbl))
FROM (VALUES
    ('barbers', 'id', 'bigint'),
    ('barbers', 'name', 'text'),
    ('barbers', 'timezone', 'text'),
    ('services', 'id', 'bigint'),
    ('services', 'name', 'text'),
    ('services', 'duration_minutes', 'integer'),
    ('services', 'price_cents', 'integer'),
    ('working_hours', 'barber_id', 'bigint'),
    ('working_hours', 'weekday', 'smallint'),
    ('working_hours', 'opens_at', 'time without time zone'),
    ('working_hours', 'closes_at', 'time without time zone'),
    ('appointments', 'id', 'bigint'),
    ('appointments', 'barber_id', 'bigint'),
    ('appointments', 'user_id', 'bigint'),
    ('appointments', 'service_name', 'text'),
    ('appointments', 'start_time', 'timestamp with time zone'),
    ('appointments', 'duration_minutes', 'integer'),
    ('appointments', 'buffer_time_before', 'integer'),
    ('appointments', 'buffer_time_after', 'integer'),
    ('appointments', 'status', 'text'),
    ('appointments', 'notes', 'text'),
    ('appointments', 'version', 'integer'),
    ('appointments', 'created_at', 'timestamp with time zone'),
    ('appointments', 'updated_at', 'timestamp with time zone')
) AS c(tbl, col, typ)
GROUP BY tbl ORDER BY tbl;

SELECT col_is_pk('booking', t, 'id', 'booking.' || t || '.id is the primary key')
FROM unnest(ARRAY['barbers', 'services', 'appointments']) AS t;
SELECT col_is_unique('booking', 'services', ARRAY['shop_id', 'name'], 'service names are unique within a shop');

-- Defaults.
SELECT col_default_is('booking', 'barbers', 'timezone', 'UTC'::text, 'a barber''s time zone defaults to UTC');
SELECT col_default_is('booking', 'appointments', 'status', 'scheduled'::text, 'status defaults to scheduled');
SELECT col_default_is('booking', 'appointments', 'buffer_time_before', 0, 'buffer_time_before defaults to 0');
SELECT col_default_is('booking', 'appointments', 'buffer_time_after', 0, 'buffer_time_after defaults to 0');
SELECT col_default_is('booking', 'appointments', 'version', 1, 'version defaults to 1');

INSERT INTO booking.barbers (id, name) VALUES (9101, 'Default zone');
SELECT is((SELECT timezone FROM booking.barbers WHERE id = 9101), 'UTC', 'a barber inserted without a time zone is in UTC');

-- The checks the contract names.
SELECT throws_ok($$INSERT INTO booking.barbers (name, timezone) VALUES ('Bad zone', 'Mars/Olympus_Mons')$$,
                 '23503', NULL, 'a time zone that is not an IANA name is refused (booking.time_zones)');
-- PostgreSQL's zone list also holds names that are not IANA zones: never a barber's zone.
SELECT throws_ok(format($$INSERT INTO booking.barbers (name, timezone) VALUES ('Odd zone', %L)$$, z),
                 '23503', NULL, format('%s is not an IANA time zone, and is refused', z))
FROM unnest(ARRAY['localtime', 'Factory', 'posixrules', 'posix/Europe/London']) AS z;
SELECT lives_ok($$INSERT INTO booking.barbers (name, timezone) VALUES ('Link zone', 'US/Eastern'), ('Area zone', 'Asia/Kolkata')$$,
                'IANA zones and their backward links are accepted');
SELECT ok((SELECT count(*) FROM booking.time_zones) > 400, 'booking.time_zones holds the IANA zones');
SELECT throws_ok($$INSERT INTO booking.services (name, duration_minutes, price_cents) VALUES ('Zero', 0, 0)$$,
                 '23514', NULL, 'a service lasts more than 0 minutes');
SELECT throws_ok($$INSERT INTO booking.services (name, duration_minutes, price_cents) VALUES ('Paid to sit', 30, -1)$$,
                 '23514', NULL, 'a price is not negative');
SELECT throws_ok($$INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES (9101, 0, '09:00', '17:00')$$,
                 '23514', NULL, 'weekday 0 is not an ISO weekday');
SELECT throws_ok($$INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES (9101, 8, '09:00', '17:00')$$,
                 '23514', NULL, 'weekday 8 is not an ISO weekday');
SELECT lives_ok($$INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)
                  VALUES (9101, 7, '09:00', '12:00'), (9101, 7, '13:00', '17:00')$$,
                'Sunday is weekday 7, and a day may have several rows');
SELECT lives_ok($$INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)
                  VALUES (9101, 5, '22:00', '06:00'), (9101, 6, '18:00', '24:00')$$,
                'a row may close on the next day (22:00-06:00) or at 24:00');
SELECT throws_ok($$INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES (9101, 4, '09:00', '09:00')$$,
                 '23514', NULL, 'a row that opens and closes at the same time is refused');
SELECT throws_ok($$INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES (9101, 4, '24:00', '06:00')$$,
                 '23514', NULL, 'a row cannot open at 24:00');

SELECT throws_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status)
                  VALUES (9101, 1, 'x', '2030-06-03 10:00Z', 30, 'pending')$$,
                 '23514', NULL, 'a status outside the five of the contract is refused');
SELECT throws_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, buffer_time_before)
                  VALUES (9101, 1, 'x', '2030-06-03 10:00Z', 30, -1)$$,
                 '23514', NULL, 'a negative buffer_time_before is refused by the table');
SELECT results_eq(
    $$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
      VALUES (9101, 1, 'x', '2030-06-03 10:00Z', 30)
      RETURNING status, buffer_time_before, buffer_time_after, version, created_at IS NOT NULL, updated_at IS NOT NULL$$,
    $$VALUES ('scheduled'::text, 0, 0, 1, true, true)$$,
    'an appointment inserted with only the required columns gets the contract''s defaults');

-- The exclusion constraint: same barber, overlapping blocked intervals, active rows only.
SELECT is((SELECT contype::text FROM pg_constraint
            WHERE conrelid = 'booking.appointments'::regclass AND conname = 'appointments_no_overlap'),
          'x', 'appointments_no_overlap is an exclusion constraint on booking.appointments');
SELECT matches((SELECT pg_get_constraintdef(oid) FROM pg_constraint
                 WHERE conrelid = 'booking.appointments'::regclass AND conname = 'appointments_no_overlap'),
               '^EXCLUDE USING gist \(barber_id WITH =, \w+ WITH &&\)',
               'it excludes equal barbers with overlapping intervals');
SELECT matches((SELECT pg_get_constraintdef(oid) FROM pg_constraint
                 WHERE conrelid = 'booking.appointments'::regclass AND conname = 'appointments_no_overlap'),
               'WHERE .*status.*cancelled.*no_show',
               'it applies only to active appointments (not cancelled, not no_show)');

-- Indexes.
SELECT has_index('booking', 'appointments', 'appointments_barber_start_idx', ARRAY['barber_id', 'start_time'],
                 'appointments_barber_start_idx indexes (barber_id, start_time)');
SELECT is((SELECT indpred IS NULL FROM pg_index WHERE indexrelid = 'booking.appointments_barber_start_idx'::regclass),
          true, 'appointments_barber_start_idx covers every row');
SELECT has_index('booking', 'appointments', 'appointments_barber_active_idx', ARRAY['barber_id', 'status', 'start_time'],
                 'appointments_barber_active_idx indexes (barber_id, status, start_time)');
SELECT is((SELECT indpred IS NOT NULL FROM pg_index WHERE indexrelid = 'booking.appointments_barber_active_idx'::regclass),
          true, 'appointments_barber_active_idx is partial');
SELECT matches((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
                 WHERE indexrelid = 'booking.appointments_barber_active_idx'::regclass),
               'status.*cancelled.*no_show',
               'appointments_barber_active_idx leaves out cancelled and no_show rows');

-- Triggers: both BEFORE ... FOR EACH ROW, on INSERT and UPDATE.
SELECT has_trigger('booking', 'appointments', 'appointments_check_overlap', 'trigger appointments_check_overlap exists');
SELECT trigger_is('booking', 'appointments', 'appointments_check_overlap', 'booking', 'check_appointment_overlap',
                  'appointments_check_overlap runs booking.check_appointment_overlap()');
SELECT has_trigger('booking', 'appointments', 'appointments_stamp_version', 'trigger appointments_stamp_version exists');
SELECT trigger_is('booking', 'appointments', 'appointments_stamp_version', 'booking', 'stamp_appointment_version',
                  'appointments_stamp_version runs booking.stamp_appointment_version()');
SELECT set_eq(
    $$SELECT trigger_name::text, event_manipulation::text, action_timing::text, action_orientation::text
        FROM information_schema.triggers
       WHERE event_object_schema = 'booking' AND event_object_table = 'appointments'
         AND trigger_name IN ('appointments_check_overlap', 'appointments_stamp_version')$$,
    $$VALUES ('appointments_check_overlap', 'INSERT', 'BEFORE', 'ROW'),
             ('appointments_check_overlap', 'UPDATE', 'BEFORE', 'ROW'),
             ('appointments_stamp_version', 'INSERT', 'BEFORE', 'ROW'),
             ('appointments_stamp_version', 'UPDATE', 'BEFORE', 'ROW')$$,
    'both triggers fire BEFORE INSERT and BEFORE UPDATE, for each row');
SELECT is((SELECT tgenabled::text FROM pg_trigger
            WHERE tgrelid = 'booking.appointments'::regclass AND tgname = 'appointments_check_overlap'),
          'O', 'appointments_check_overlap is enabled');
SELECT function_returns('booking', 'check_appointment_overlap', ARRAY[]::text[], 'trigger',
                        'booking.check_appointment_overlap() is a trigger function');

-- Functions, with the contract's parameter names and defaults (callers use named notation).
SELECT has_function('booking', 'book_appointment',
                    ARRAY['bigint', 'bigint', 'text', 'timestamp with time zone', 'integer', 'integer', 'text', 'text', 'bigint'],
                    'booking.book_appointment(bigint, bigint, text, timestamptz, int, int, text, text, bigint) exists');
SELECT is(pg_get_function_arguments('booking.book_appointment(bigint, bigint, text, timestamptz, int, int, text, text, bigint)'::regprocedure),
          'p_barber_id bigint, p_user_id bigint, p_service text, p_start timestamp with time zone, '
          'p_buffer_before integer DEFAULT 0, p_buffer_after integer DEFAULT 0, p_notes text DEFAULT NULL::text, '
          'p_idempotency_key text DEFAULT NULL::text, p_shop_id bigint DEFAULT NULL::bigint',
          'book_appointment has the contract''s parameter names and defaults (buffers given as NULL: the '
          'barber''s default for the service; issue 18)');
SELECT has_function('booking', 'update_appointment', ARRAY['bigint', 'bigint', 'jsonb', 'integer'],
                    'booking.update_appointment(bigint, bigint, jsonb, int) exists');
SELECT is(pg_get_function_arguments('booking.update_appointment(bigint, bigint, jsonb, int)'::regprocedure),
          'p_appointment_id bigint, p_user_id bigint, p_changes jsonb, p_expected_version integer DEFAULT NULL::integer',
          'update_appointment has the contract''s parameter names and defaults');
SELECT has_function('booking', 'cancel_appointment', ARRAY['bigint', 'bigint', 'integer'],
                    'booking.cancel_appointment(bigint, bigint, int) exists');
SELECT is(pg_get_function_arguments('booking.cancel_appointment(bigint, bigint, int)'::regprocedure),
          'p_appointment_id bigint, p_user_id bigint, p_expected_version integer DEFAULT NULL::integer',
          'cancel_appointment has the contract''s parameter names and defaults');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE pronamespace = 'booking'::regnamespace
              AND proname IN ('book_appointment', 'update_appointment', 'cancel_appointment')),
          3, 'each booking function has exactly one overload, so named calls are never ambiguous');

-- What the functions return: rows of booking.appointment_records, the one shape of an
-- answer: the contract's columns of the appointment (all of booking.appointments but the
-- internal blocked_during), in the table's order, then what a caller shows, then replayed.
SELECT function_returns('booking', f, args, 'setof booking.appointment_records',
                        format('%s returns rows of booking.appointment_records', f))
FROM (VALUES
    ('book_appointment', ARRAY['bigint', 'bigint', 'text', 'timestamp with time zone', 'integer', 'integer', 'text', 'text', 'bigint']),
    ('update_appointment', ARRAY['bigint', 'bigint', 'jsonb', 'integer']),
    ('cancel_appointment', ARRAY['bigint', 'bigint', 'integer']),
    ('get_appointment', ARRAY['bigint', 'bigint'])
) AS v(f, args);
SELECT results_eq(
    $$SELECT a.attname::text COLLATE "C", format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
       WHERE a.attrelid = 'booking.appointments'::regclass AND a.attnum > 0 AND NOT a.attisdropped
         AND a.attname <> 'blocked_during'
       ORDER BY a.attnum$$,
    $$SELECT a.attname::text COLLATE "C", format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
       WHERE a.attrelid = 'booking.appointment_records'::regclass AND a.attnum > 0
         AND a.attnum <= (SELECT count(*) FROM pg_attribute b WHERE b.attrelid = 'booking.appointments'::regclass
                           AND b.attnum > 0 AND NOT b.attisdropped) - 1
       ORDER BY a.attnum$$,
    'an answer starts with the appointment''s columns, in order and type');
SELECT is((SELECT array_agg(a.attname::text ORDER BY a.attnum DESC) FROM pg_attribute a
            WHERE a.attrelid = 'booking.appointment_records'::regclass AND a.attnum > 0)[1:5],
          ARRAY['replayed', 'timezone', 'booking_time', 'booking_date', 'end_time'],
          'then end_time, the local booking_date and booking_time, the timezone, and replayed last');

-- The other functions the service calls.
SELECT has_function('booking', f, args, format('booking.%s(%s) exists', f, array_to_string(args, ', ')))
FROM (VALUES
    ('get_appointment', ARRAY['bigint', 'bigint']),
    ('local_start', ARRAY['bigint', 'date', 'time without time zone', 'bigint']),
    ('purge_expired_idempotency_keys', ARRAY[]::text[]),
    ('purge_old_appointment_events', ARRAY['interval']),
    ('purge_expired_appointment_events', ARRAY[]::text[]),
    ('authenticate_token', ARRAY['bytea'])
) AS f(f, args);

-- The error catalogue (07_errors.sql checks its rows).
SELECT has_table('booking', 'error_codes', 'the error catalogue booking.error_codes exists');

SELECT * FROM finish();
ROLLBACK;
