-- The permission matrix of schema booking: for every table, sequence and function, and for
-- each of booking_app, booking_client and PUBLIC, the privileges it has are exactly the ones
-- decided here. The decisions are literal lists; the catalogue is compared with them, so a
-- NEW table, sequence or function without an explicit line below fails this file (and the
-- end of the file proves it by creating one). Then real attempts: what is forbidden fails
-- with 42501 under SET LOCAL ROLE, and a role that is granted direct write access still
-- cannot double-book.
BEGIN;

-- Decisions. privs: what booking_app / booking_client may do; PUBLIC gets nothing anywhere.
CREATE TEMP TABLE decided_tables (tbl text PRIMARY KEY, app text[], client text[]);
INSERT INTO decided_tables VALUES
    ('shops',              '{SELECT}', '{SELECT}'),
    ('barbers',            '{SELECT}', '{SELECT}'),
    ('services',           '{SELECT}', '{SELECT}'),
    ('error_codes',        '{SELECT}', '{SELECT}'),
    ('time_zones',         '{SELECT}', '{SELECT}'),
    ('appointments',       '{}',       '{}'),          -- every user's notes: through get_appointment()
    ('working_hours',      '{}',       '{}'),          -- through free_slots()/book_appointment()
    ('time_off',           '{}',       '{}'),          -- its reasons are private
    ('retention_policy',   '{}',       '{}'),          -- the operator's setting
    ('status_transitions', '{}',       '{}'),          -- read by update_appointment()
    ('appointment_records','{}',       '{}'),          -- the answers' shape: through the functions
    ('barber_services',    '{}',       '{}'),          -- read through free_slots()/book_appointment()
    ('staff',              '{}',       '{}'),          -- who is admin: never readable
    ('api_tokens',         '{}',       '{}'),          -- token hashes: only authenticate_token()
    ('idempotency_keys',   '{}',       '{}'),          -- other users' requests
    ('appointment_events', '{}',       '{}'),          -- only through events_since()
    ('appointment_changes','{}',       '{}'),          -- the outbox: only the relay moves it
    ('change_feed',        '{}',       '{}'),          -- the feed's state: change_feed_status()
    ('partition_membership','{}',      '{}'),          -- a partition's number: the operator's
    ('calendar_keys',      '{}',       '{}'),          -- feed key hashes: only calendar_feed()
    ('webhook_subscriptions','{}',     '{}'),          -- secrets: only the worker's claim
    ('webhook_deliveries', '{}',       '{}'),          -- through list_webhook_deliveries()
    ('barber_service_buffers','{}',    '{}'),          -- through service_durations()/set_service_buffers()
    ('booking_attempts',   '{}',       '{}');          -- written by record_booking_attempt(), read by slot_demand()

CREATE TEMP TABLE decided_functions (sig text PRIMARY KEY, app boolean, client boolean);
INSERT INTO decided_functions VALUES
    -- The documented API.
    ('booking.book_appointment(bigint,bigint,text,timestamp with time zone,integer,integer,text,text,bigint)', true, true),
    ('booking.hold_slot(bigint,bigint,text,timestamp with time zone,integer,integer,text,text,bigint)', true, true),
    ('booking.confirm_hold(bigint,bigint)',                                     true,  true),
    ('booking.book_series(bigint,bigint,text,date,time without time zone,integer,integer,integer,integer,text,text,bigint)', true, true),
    ('booking.cancel_following(bigint,bigint)',                                 true,  true),
    ('booking.update_appointment(bigint,bigint,jsonb,integer)',                  true,  true),
    ('booking.cancel_appointment(bigint,bigint,integer)',                       true,  true),
    ('booking.get_appointment(bigint,bigint)',                                  true,  true),
    ('booking.list_appointments(bigint,bigint,timestamp with time zone,timestamp with time zone,text,timestamp with time zone,bigint,integer)', true, true),
    ('booking.local_start(bigint,date,time without time zone,bigint)',          true,  true),
    ('booking.free_slots(bigint,date,text,integer,integer,integer,bigint)',     true,  true),
    ('booking.list_barbers(bigint)',                                            true,  true),
    ('booking.list_services(bigint)',                                           true,  true),
    ('booking.get_barber(bigint)',                                              true,  true),
    -- Calendar feeds: by key, or for the barber and its shop's admins (assert_barber_staff).
    ('booking.calendar_feed(bigint,bigint,bytea,timestamp with time zone,timestamp with time zone)', true, true),
    ('booking.issue_calendar_key(bigint,bytea,bigint)',                         true,  true),
    ('booking.revoke_calendar_key(bigint,bigint,bigint)',                       true,  true),
    ('booking.shop_of_id(bigint)',                                              true,  true),
    -- Webhooks: managed by a shop's admin (assert_shop_admin); delivered by the service's
    -- worker (the claim answers secrets: booking_app only).
    ('booking.create_webhook(bigint,text,text[],bigint)',                       true,  true),
    ('booking.list_webhooks(bigint,bigint)',                                    true,  true),
    ('booking.rotate_webhook_secret(bigint,bigint,bigint)',                     true,  true),
    ('booking.delete_webhook(bigint,bigint,bigint)',                            true,  true),
    ('booking.disable_webhook(bigint,bigint,bigint)',                           true,  true),
    ('booking.enable_webhook(bigint,bigint,timestamp with time zone,bigint)',   true,  true),
    ('booking.send_test_webhook(bigint,bigint,bigint)',                         true,  true),
    ('booking.list_webhook_deliveries(bigint,bigint,text,timestamp with time zone,integer,bigint)', true, true),
    ('booking.claim_webhook_deliveries(integer,double precision)',              true,  false),
    ('booking.finish_webhook_delivery(bigint,text,integer,integer,text,double precision,double precision,double precision)', true, false),
    ('booking.webhook_backlog()',                                               true,  false),
    ('booking.purge_webhook_deliveries()',                                      true,  false),
    ('booking.webhook_records(bigint,bigint,text)',                                  false, false),
    ('booking.webhook_messages(booking.appointment_events[])',                  false, false),
    ('booking.assert_webhook_admin(bigint,bigint,bigint)',                      false, false),
    ('booking.new_webhook_secret()',                                            false, false),
    ('booking.queue_webhook_deliveries()',                                      false, false),
    -- A cluster's (docs/SCALING.md): the proxy places shops and grants staff roles through
    -- these as its login booking_cluster (app/cluster.py); the operator joins a partition.
    ('booking.create_shop_at(bigint,text,text,bigint)',                         false, false),
    ('booking.grant_staff_role(bigint,text,bigint,bigint,integer)',             false, false),
    ('booking.join_cluster(integer)',                                           false, false),
    -- Learning from history (issue 18): staff start and finish appointments (actor_role,
    -- through update_appointment); a barber's durations for it and its shop's admins
    -- (assert_barber_staff); default buffers for the admins (assert_shop_admin); the demand
    -- the conflict model reads (no personal data); the service records its own refused
    -- attempts; the shop's whole history is the operator's (python -m app learn).
    ('booking.start_appointment(bigint,bigint,integer)',                        true,  true),
    ('booking.finish_appointment(bigint,bigint,integer)',                       true,  true),
    ('booking.service_durations(bigint,bigint,timestamp with time zone)',       true,  true),
    ('booking.set_service_buffers(bigint,text,integer,integer,jsonb,bigint)',   true,  true),
    ('booking.slot_demand(bigint,date)',                                        true,  true),
    ('booking.record_booking_attempt(bigint,bigint,text,timestamp with time zone)', true, false),
    ('booking.booking_history(bigint,timestamp with time zone)',                false, false),
    -- Shop operations: for a shop's admin named as the actor (assert_shop_admin); a
    -- shop itself is made by internal callers only.
    ('booking.create_barber(bigint,text,text,bigint)',                          true,  true),
    ('booking.create_service(bigint,text,integer,integer,bigint)',              true,  true),
    ('booking.set_working_hours(bigint,jsonb,bigint,boolean,bigint)',           true,  true),
    ('booking.add_time_off(bigint,timestamp with time zone,timestamp with time zone,text,bigint,boolean)', true, true),
    ('booking.get_working_hours(bigint,bigint)',                                true,  true),
    ('booking.list_time_off(bigint,bigint,timestamp with time zone)',           true,  true),
    -- Their helpers (19_staff_api.sql): internal.
    ('booking.assert_barber_staff(bigint,bigint)',                              false, false),
    ('booking.assert_no_stranded_appointments(bigint,tstzrange,boolean,text)',  false, false),
    ('booking.working_hours_version(bigint)',                                   false, false),
    ('booking.set_hold_minutes(bigint,integer,bigint)',                         true,  true),
    ('booking.set_shop_policy(bigint,integer,integer,integer,integer,bigint)',  true,  true),
    ('booking.set_service_policy(bigint,text,integer,integer,integer,integer,bigint)', true, true),
    ('booking.shop_policy(bigint)',                                             true,  true),
    ('booking.effective_policy(bigint,text)',                                   true,  true),
    ('booking.assert_start_allowed(bigint,text,timestamp with time zone,bigint,bigint)', false, false),
    ('booking.assert_change_allowed(booking.appointments,booking.appointments,text)', false, false),
    ('booking.create_shop(text,text,bigint)',                                   false, true),
    ('booking.events_since(bigint,bigint)',                                     true,  true),
    ('booking.latest_event_id(bigint)',                                         true,  true),
    ('booking.purge_expired_idempotency_keys()',                                true,  true),
    ('booking.purge_expired_appointment_events()',                              true,  true),
    ('booking.authenticate_token(bytea)',                                       true,  false),
    -- What the service's one-statement calls use (tests/py/db/test_boundaries.py tries them).
    ('booking.with_settings(anyelement,text,text,text,text)',                   true,  true),
    ('booking.parse_local_date(text,text)',                                     true,  true),
    ('booking.parse_local_time(text,text)',                                     true,  true),
    -- Called by the generated column and CHECK constraints (harmless, IMMUTABLE).
    ('booking.blocked_interval(timestamp with time zone,integer,integer,integer)', true, true),
    -- Operators only (python -m app token ..., the change feed's purge down to an hour, migrate).
    ('booking.purge_old_appointment_events(interval)',                          false, false),
    ('booking.sync_time_zones()',                                               false, false),
    ('booking.create_api_token(bytea,bigint,text,bigint,timestamp with time zone,bigint)', false, false),
    ('booking.revoke_api_token(bytea)',                                         false, false),
    -- Internal helpers: called only by the SECURITY DEFINER functions, as booking_owner.
    ('booking.actor_role(bigint,bigint,bigint)',                                false, false),
    ('booking.assert_shop_admin(bigint,bigint)',                                false, false),
    ('booking.acting_role()',                                                   false, false),
    ('booking.offers(bigint,text)',                                             false, false),
    ('booking.apply_changes(booking.appointments,jsonb)',                       false, false),
    ('booking.check_status_transition(bigint,text,text,text)',                  false, false),
    ('booking.application_checks_enabled()',                                    false, false),
    ('booking.assert_barber_available(bigint,text,timestamp with time zone,integer)', false, false),
    ('booking.candidate_barbers(bigint,text)',                                         false, false),
    ('booking.change_integer(jsonb,text,bigint,bigint)',                        false, false),
    ('booking.change_text(jsonb,text,text,text)',                               false, false),
    ('booking.choose_barber(bigint,text,integer,timestamp with time zone,integer,integer)', false, false),
    ('booking.local_to_utc(timestamp without time zone,text)',                  false, false),
    ('booking.local_to_utc_or_null(timestamp without time zone,text)',          false, false),
    ('booking.lock_timeout()',                                                  false, false),
    ('booking.parse_instant(text,text)',                                        false, false),
    ('booking.raise_error(text,text,text)',                                     false, false),
    ('booking.rfc3339(timestamp with time zone)',                               false, false),
    ('booking.take_slot_locks(bigint[],tstzrange[])',                           false, false),
    ('booking.take_locks(integer,integer[],text)',                              false, false),
    ('booking.lock_appointment(bigint,text)',                                   false, false),
    ('booking.lock_barber_schedule(bigint,boolean)',                            false, false),
    ('booking.slot_lock_key(bigint,integer)',                                   false, false),
    ('booking.lock_namespace(text)',                                            false, false),
    ('booking.shown(text,integer,boolean)',                                     false, false),
    ('booking.check_name(text,text)',                                           false, false),
    ('booking.check_time_zone(text)',                                           false, false),
    ('booking.idempotency_key_ttl()',                                           false, false),
    ('booking.check_local_date(text,date)',                                     false, false),
    ('booking.check_local_time(text,time without time zone)',                   false, false),
    ('booking.raise_snapshot_conflict(bigint,tstzrange)',                       false, false),
    ('booking.fairest_free_barbers(bigint[],timestamp with time zone,integer,text,integer,integer,integer)', false, false),
    ('booking.unavailability(bigint,text,timestamp with time zone,integer)',    false, false),
    ('booking.place_appointment(bigint,bigint,text,timestamp with time zone,integer,integer,text,text,bigint,boolean)', false, false),
    ('booking.store_api_token(bytea,bigint,text,bigint,timestamp with time zone,bigint)', false, false),
    ('booking.store_staff_role(bigint,text,bigint,bigint)',                     false, false),
    ('booking.this_partition()',                                                false, false),
    -- Trigger functions (a trigger fires whatever the writer's privileges).
    ('booking.check_appointment_overlap()',                                     false, false),
    ('booking.stamp_appointment_version()',                                     false, false),
    ('booking.stage_appointment_change()',                                      false, false),
    ('booking.fill_appointment_shop()',                                         false, false),
    ('booking.id_from_shop()',                                                  false, false),
    ('booking.announce_token_change()',                                         false, false),
    -- The change feed: the service's relay runs and reports it; a mode switch of the
    -- operator's (migrate) drops the slot; the rule and the catch-up run inside them.
    ('booking.relay_change_feed(integer,pg_lsn)',                               true,  false),
    ('booking.open_logical_change_feed(boolean)',                               true,  false),
    ('booking.change_feed_slot_name()',                                         false, false),
    ('booking.open_outbox_change_feed()',                                       true,  false),
    ('booking.change_feed_status()',                                            true,  false),
    ('booking.drop_change_feed_slot()',                                         false, false),
    ('booking.change_feed_mark()',                                              false, false),
    ('booking.record_wal_changes(jsonb[])',                                     false, false),
    ('booking.wal2json_options()',                                              false, false),
    ('booking.announce_changed_appointments(timestamp with time zone)',         false, false),
    ('booking.appointment_change_events(booking.appointments,booking.appointments)', false, false);

CREATE TEMP VIEW catalogue_functions AS
SELECT p.oid, regexp_replace(p.oid::regprocedure::text, ',\s*', ',', 'g') AS sig, p.proname::text AS name,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i) ORDER BY i) AS args,
       p.prorettype = 'trigger'::regtype AS is_trigger
FROM pg_proc p WHERE p.pronamespace = 'booking'::regnamespace;

CREATE TEMP TABLE roles (r text, decision text);
INSERT INTO roles VALUES ('booking_app', 'app'), ('booking_client', 'client'), ('public', 'public');

CREATE TEMP TABLE secret_tables (tbl text);
INSERT INTO secret_tables VALUES ('api_tokens'), ('staff'), ('idempotency_keys'), ('appointment_events'),
                                 ('appointment_changes'),
                                 ('appointments'), ('time_off'), ('retention_policy'), ('calendar_keys'),
                                 ('webhook_subscriptions'), ('webhook_deliveries'), ('barber_service_buffers'),
                                 ('booking_attempts');

SELECT plan(
      7                                                                       -- fixed tests
    + 3 * (SELECT count(*)::int FROM decided_tables)                          -- table_privs_are
    + 3 * (SELECT count(*)::int FROM pg_class WHERE relnamespace = 'booking'::regnamespace AND relkind = 'S')
    + 3 * (SELECT count(*)::int FROM decided_functions)                       -- function_privs_are
    + 2 * 6 * (SELECT count(*)::int FROM decided_tables d JOIN pg_class c
                 ON c.relname = d.tbl AND c.relnamespace = 'booking'::regnamespace
               WHERE c.relkind = 'r')                                         -- real write attempts
    + 2 * (SELECT count(*)::int FROM secret_tables)                           -- real reads
    + (SELECT count(*)::int FROM decided_functions d JOIN catalogue_functions f USING (sig)
       WHERE NOT d.app AND NOT f.is_trigger)                                   -- real calls (app)
    + (SELECT count(*)::int FROM decided_functions d JOIN catalogue_functions f USING (sig)
       WHERE NOT d.client AND NOT f.is_trigger)                                -- real calls (client)
    + 7                                                                       -- direct writer
    + 3                                                                       -- defaults, new objects
    + 13                                                                      -- acting user
    + 11                                                                      -- per-shop staff
);
\ir fixtures.psql

-- 1. Every object has a decision, and nothing is decided about objects that do not exist.
SELECT set_eq($$SELECT c.relname::text FROM pg_class c
                WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')$$,
              $$SELECT tbl FROM decided_tables$$,
              'every table and view of schema booking has an explicit privilege decision in this file');
SELECT set_eq($$SELECT sig FROM catalogue_functions$$, $$SELECT sig FROM decided_functions$$,
              'every function of schema booking has an explicit EXECUTE decision in this file');

-- 2. Schema, database and the public schema.
SELECT schema_privs_are('booking', r, CASE WHEN r = 'public' THEN '{}'::text[] ELSE '{USAGE}' END,
                        format('%s has %s on schema booking', r, CASE WHEN r = 'public' THEN 'nothing' ELSE 'only USAGE' END))
FROM roles ORDER BY r;
SELECT is_empty($$SELECT r.rolname FROM pg_roles r
                   WHERE has_schema_privilege(r.oid, 'booking', 'CREATE')
                     AND NOT r.rolsuper AND NOT pg_has_role(r.oid, 'booking_owner', 'USAGE')$$,
                'only booking_owner (and superusers) may create objects in schema booking');
SELECT ok(NOT has_database_privilege('booking_app', current_database(), 'CREATE')
          AND NOT has_database_privilege('booking_client', current_database(), 'CREATE')
          AND NOT has_schema_privilege('booking_app', 'public', 'CREATE')
          AND NOT has_schema_privilege('booking_client', 'public', 'CREATE'),
          'booking_app and booking_client create no schema and nothing in schema public');

-- 3. The matrix, cell by cell.
SELECT table_privs_are('booking', d.tbl, ro.r,
                       CASE ro.decision WHEN 'app' THEN d.app WHEN 'client' THEN d.client ELSE '{}' END,
                       format('%s on booking.%s: %s', ro.r, d.tbl,
                              coalesce(nullif(array_to_string(CASE ro.decision WHEN 'app' THEN d.app
                                                   WHEN 'client' THEN d.client ELSE '{}' END, ', '), ''), 'nothing')))
FROM decided_tables d CROSS JOIN roles ro ORDER BY d.tbl, ro.r;
SELECT sequence_privs_are('booking', c.relname, ro.r, '{}'::text[], format('%s on sequence booking.%s: nothing', ro.r, c.relname))
FROM pg_class c CROSS JOIN roles ro
WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind = 'S' ORDER BY c.relname, ro.r;
SELECT function_privs_are('booking', f.name, f.args, ro.r,
                          CASE WHEN (ro.decision = 'app' AND d.app) OR (ro.decision = 'client' AND d.client)
                               THEN '{EXECUTE}'::text[] ELSE '{}' END,
                          format('%s %s %s', ro.r,
                                 CASE WHEN (ro.decision = 'app' AND d.app) OR (ro.decision = 'client' AND d.client)
                                      THEN 'may execute' ELSE 'may not execute' END, d.sig))
FROM decided_functions d JOIN catalogue_functions f USING (sig) CROSS JOIN roles ro ORDER BY d.sig, ro.r;

-- 4. Real attempts, generated from the catalogue, as each role.
CREATE TEMP TABLE attempts (r text, sql text, what text);
INSERT INTO attempts
SELECT ro.r, format(v.tmpl, 'booking.' || quote_ident(d.tbl),
                    (SELECT quote_ident(a.attname) FROM pg_attribute a
                     WHERE a.attrelid = ('booking.' || quote_ident(d.tbl))::regclass AND a.attnum > 0
                       AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity <> 'a' ORDER BY a.attnum LIMIT 1)),
       format('%s: %s booking.%s', ro.r, v.what, d.tbl)
FROM decided_tables d
-- (a view of a join is written by nobody: PostgreSQL refuses before any privilege check)
JOIN pg_class c ON c.relname = d.tbl AND c.relnamespace = 'booking'::regnamespace AND c.relkind = 'r'
CROSS JOIN (VALUES ('booking_app'), ('booking_client')) AS ro(r)
CROSS JOIN (VALUES
    ('INSERT INTO %1$s DEFAULT VALUES', 'INSERT into'),
    ('UPDATE %1$s SET %2$s = %2$s', 'UPDATE'),
    ('DELETE FROM %1$s', 'DELETE from'),
    ('TRUNCATE %1$s', 'TRUNCATE'),
    ('ALTER TABLE %1$s DISABLE TRIGGER ALL', 'disable the triggers of'),
    ('ALTER TABLE %1$s ADD COLUMN intruder int', 'ALTER')
) AS v(tmpl, what);
INSERT INTO attempts
SELECT ro.r, format('SELECT * FROM booking.%I', s.tbl), format('%s: read booking.%s', ro.r, s.tbl)
FROM secret_tables s CROSS JOIN (VALUES ('booking_app'), ('booking_client')) AS ro(r);
-- Every forbidden function, called with NULL arguments of its types (EXECUTE is checked
-- before anything runs; each NULL is a sub-select, because the planner folds a STRICT
-- function of constant NULLs to NULL without ever calling, or checking, it). Trigger functions cannot be called at all; their matrix rows above
-- cover them.
INSERT INTO attempts
SELECT ro.r, format('SELECT %s(%s)', 'booking.' || quote_ident(f.name),
                    (SELECT string_agg(format('(SELECT NULL::%s)', t), ', ') FROM unnest(f.args) AS t)),
       format('%s: call %s', ro.r, f.sig)
FROM decided_functions d JOIN catalogue_functions f USING (sig)
CROSS JOIN (VALUES ('booking_app'), ('booking_client')) AS ro(r)
WHERE NOT CASE ro.r WHEN 'booking_app' THEN d.app ELSE d.client END AND NOT f.is_trigger;
GRANT SELECT ON attempts TO booking_app, booking_client;   -- the list itself, not the tables

SET LOCAL ROLE booking_app;
SELECT throws_ok(sql, '42501', NULL, what || ' is refused (42501)') FROM attempts WHERE r = 'booking_app' ORDER BY what;
RESET ROLE;
SET LOCAL ROLE booking_client;
SELECT throws_ok(sql, '42501', NULL, what || ' is refused (42501)') FROM attempts WHERE r = 'booking_client' ORDER BY what;
RESET ROLE;

-- 5. A role that IS granted direct write access (a future mistake, or a migration role)
--    still cannot double-book: the trigger and the exclusion constraint hold for every
--    writer, and it cannot switch them off.
SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
CREATE ROLE booking_tap_writer;
GRANT USAGE ON SCHEMA booking TO booking_tap_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON booking.appointments TO booking_tap_writer;
GRANT EXECUTE ON FUNCTION booking.blocked_interval(timestamptz, int, int, int) TO booking_tap_writer;
SET LOCAL ROLE booking_tap_writer;
SELECT throws_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                   VALUES (9001, 1002, 'TAP Haircut', '2030-06-03 10:15Z', 30)$$,
                 '23P01', NULL, 'direct writer: an overlapping INSERT is refused (23P01)');
SELECT lives_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                  VALUES (9001, 1002, 'TAP Haircut', '2030-06-03 12:00Z', 30)$$,
                'direct writer: a free slot is accepted (the grant works)');
SELECT throws_ok($$UPDATE booking.appointments SET start_time = '2030-06-03 10:20Z' WHERE start_time = '2030-06-03 12:00Z'$$,
                 '23P01', NULL, 'direct writer: an UPDATE into an occupied slot is refused (23P01)');
SELECT throws_ok($$ALTER TABLE booking.appointments DISABLE TRIGGER appointments_check_overlap$$,
                 '42501', NULL, 'direct writer: disabling the overlap trigger needs ownership (42501)');
SELECT throws_ok($$ALTER TABLE booking.appointments DROP CONSTRAINT appointments_no_overlap$$,
                 '42501', NULL, 'direct writer: dropping the exclusion constraint needs ownership (42501)');
SELECT throws_ok($$SET session_replication_role = replica$$,
                 '42501', NULL, 'direct writer: session_replication_role (skips triggers) is refused (42501)');
RESET ROLE;
SELECT is((SELECT count(*) FROM booking.appointments WHERE barber_id = 9001 AND status = 'scheduled'
           AND blocked_during && tstzrange('2030-06-03 10:00Z', '2030-06-03 10:30Z')), 1::bigint,
          'after all the attempts, one appointment holds 10:00-10:30');

-- 6. The acting user, as a direct SQL caller (booking_client): passing the id of someone
--    else's appointment neither shows nor changes it (BK011, as if it did not exist); a
--    client may not confirm or complete even its own (BK012); the row is untouched.
SELECT id AS b FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
CREATE TEMP TABLE before_b AS SELECT * FROM booking.appointments WHERE id = :b;
SET LOCAL ROLE booking_client;
SELECT is_empty(format('SELECT * FROM booking.get_appointment(%s, 1002)', :b),
                'client 1002 does not see client 1001''s appointment by its id');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"notes": "mine now"}')$$, :b),
                 'BK011', NULL, 'client 1002 cannot change the notes of 1001''s appointment (BK011)');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"start_time": "2030-06-03T15:00:00Z"}')$$, :b),
                 'BK011', NULL, 'client 1002 cannot move 1001''s appointment (BK011)');
SELECT throws_ok(format('SELECT * FROM booking.cancel_appointment(%s, 1002)', :b),
                 'BK011', NULL, 'client 1002 cannot cancel 1001''s appointment (BK011)');
SELECT throws_ok(format('SELECT * FROM booking.cancel_appointment(%s, 1002, 1)', :b),
                 'BK011', NULL, 'client 1002 cannot cancel it with the right version either (BK011)');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"status": "confirmed"}')$$, :b),
                 'BK012', NULL, 'the client who booked it cannot confirm it (BK012)');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"status": "completed"}')$$, :b),
                 'BK012', NULL, 'the client who booked it cannot complete it (BK012)');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"status": "no_show"}')$$, :b),
                 'BK012', NULL, 'the client who booked it cannot mark a no-show (BK012)');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 2001, '{"status": "confirmed"}')$$, :b),
                 'BK011', NULL, 'the barber of another barber (2001 of 9001) does not see it (BK011)');
SELECT is_empty(format('SELECT * FROM booking.get_appointment(%s, 2001)', :b),
                'the barber of another barber does not see it through get_appointment either');
RESET ROLE;
SELECT results_eq(format('SELECT * FROM booking.appointments WHERE id = %s', :b), 'SELECT * FROM before_b',
                  'after the refused calls the appointment is exactly as it was');
SET LOCAL ROLE booking_client;
SELECT results_eq(format($$SELECT status, version FROM booking.update_appointment(%s, 2002, '{"status": "confirmed"}')$$, :b),
                  $$VALUES ('confirmed'::text, 2)$$, 'an admin (2002) may confirm it (the refusals above are about who, not what)');
SELECT results_eq(format($$SELECT status FROM booking.cancel_appointment(%s, 1001)$$, :b),
                  $$VALUES ('cancelled'::text)$$, 'the client who booked it may cancel it');
RESET ROLE;

-- 6b. Staff roles are per shop: user 3101, admin of a second shop, is nobody in the
--     default shop, through every function that acts for a user (booking_client calling).
SELECT id AS s2 FROM booking.create_shop('TAP Matrix Shop', 'UTC', 3101) \gset
SELECT id AS c FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-04 10:00Z') \gset
CREATE TEMP TABLE before_c AS SELECT * FROM booking.appointments WHERE id = :c;
SET LOCAL ROLE booking_client;
SELECT is_empty(format('SELECT * FROM booking.get_appointment(%s, 3101)', :c),
                'shop 2''s admin does not see a default-shop appointment');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 3101, '{"status": "confirmed"}')$$, :c),
                 'BK011', NULL, 'nor confirm it (BK011)');
SELECT throws_ok(format('SELECT * FROM booking.cancel_appointment(%s, 3101)', :c),
                 'BK011', NULL, 'nor cancel it (BK011)');
SELECT throws_ok($$SELECT booking.create_barber(1, 'TAP Intruder', NULL, 3101)$$,
                 'BK012', NULL, 'nor add a barber to the default shop (BK012)');
SELECT throws_ok($$SELECT booking.create_service(1, 'TAP Intrusion', 30, 0, 3101)$$,
                 'BK012', NULL, 'nor a service (BK012)');
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9002, '[]', 3101)$$,
                 'BK012', NULL, 'nor set a default-shop barber''s hours (BK012)');
SELECT throws_ok($$SELECT booking.add_time_off(9002, '2030-06-04 09:00Z', '2030-06-04 12:00Z', NULL, 3101)$$,
                 'BK012', NULL, 'nor give one time off (BK012)');
SELECT lives_ok(format($$SELECT booking.create_barber(%s, 'TAP Own Barber', NULL, 3101)$$, :s2),
                'but it may add a barber to its own shop');
RESET ROLE;
SELECT results_eq(format('SELECT * FROM booking.appointments WHERE id = %s', :c), 'SELECT * FROM before_c',
                  'after the refused calls the default-shop appointment is exactly as it was');
SELECT is((SELECT count(*)::int FROM booking.working_hours WHERE barber_id = 9002), 0,
          'its barber''s working hours are untouched');
SELECT is((SELECT count(*)::int FROM booking.time_off WHERE barber_id = 9002), 0, 'and no time off was added');

-- 7. Default privileges, and the matrix catching a new object.
SET LOCAL ROLE booking_owner;
CREATE FUNCTION booking.tap_new_function() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE booking.tap_new_table (id int);
RESET ROLE;
SELECT ok(NOT has_function_privilege('public', 'booking.tap_new_function()', 'EXECUTE'),
          'a function booking_owner creates is not executable by PUBLIC (default privileges)');
SELECT isnt_empty($$SELECT sig FROM catalogue_functions EXCEPT SELECT sig FROM decided_functions$$,
                  'a new function without a decision is caught by the comparison above');
SELECT isnt_empty($$SELECT c.relname::text FROM pg_class c
                    WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                    EXCEPT SELECT tbl FROM decided_tables$$,
                  'a new table without a decision is caught by the comparison above');

SELECT * FROM finish();
ROLLBACK;
