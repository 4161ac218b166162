-- Ownership and privileges, re-applied after every migrate (after sql/functions/).
--
--   booking_owner   NOLOGIN; owns every object of schema booking. SECURITY DEFINER
--                   functions run as this role.
--   booking_app     the HTTP service's login: reads the reference tables (shops, barbers, services,
--                   error_codes, time_zones), executes the booking functions and
--                   authenticate_token(); cannot write any table, nor read appointments,
--                   working_hours, time_off, api_tokens, idempotency_keys or staff.
--   booking_client  granted to internal services that call the SQL functions directly:
--                   the same as booking_app minus authenticate_token().
--   PUBLIC          nothing.
DO $$
DECLARE
    o record;
BEGIN
    ALTER SCHEMA booking OWNER TO booking_owner;
    FOR o IN
        SELECT format('ALTER %s %s OWNER TO booking_owner',
                      CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
                      c.oid::regclass) AS stmt
        FROM pg_class c
        WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'c')
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO booking_owner', p.oid::regprocedure)
        FROM pg_proc p
        WHERE p.pronamespace = 'booking'::regnamespace
    LOOP
        EXECUTE o.stmt;
    END LOOP;
END
$$;

-- Functions are executable by PUBLIC the moment they are created unless a default
-- privilege says otherwise. For booking_owner (whose only objects are this schema's) the
-- database-wide default is changed: nothing it creates is ever executable by PUBLIC. A
-- per-schema `ALTER DEFAULT PRIVILEGES ... IN SCHEMA booking REVOKE` cannot do this (a
-- schema's defaults only add to the global ones). The migrating role's global defaults
-- are left alone (they would also strip PUBLIC from extensions it installs, e.g. pgTAP):
-- the functions it creates are re-owned and revoked below in the same transaction as
-- sql/functions/, and PUBLIC has no USAGE on the schema, so it could not call them anyway.
ALTER DEFAULT PRIVILEGES FOR ROLE booking_owner REVOKE ALL ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE booking_owner REVOKE ALL ON TYPES FROM PUBLIC;

REVOKE ALL ON SCHEMA booking FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA booking FROM PUBLIC, booking_app, booking_client;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA booking FROM PUBLIC, booking_app, booking_client;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA booking FROM PUBLIC, booking_app, booking_client;

GRANT USAGE ON SCHEMA booking TO booking_app, booking_client;
-- Reference data only: who the barbers are, what the services cost, the error catalogue
-- and the time-zone list. Appointments (who booked, their notes), working hours and time
-- off (with its reasons) are read through the functions, which apply the visibility rules.
GRANT SELECT ON booking.shops, booking.barbers, booking.services, booking.error_codes, booking.time_zones
    TO booking_app, booking_client;
GRANT EXECUTE ON FUNCTION
    booking.book_appointment(bigint, bigint, text, timestamptz, int, int, text, text, bigint),
    booking.hold_slot(bigint, bigint, text, timestamptz, int, int, text, text, bigint),
    booking.confirm_hold(bigint, bigint),
    booking.book_series(bigint, bigint, text, date, time, int, int, int, int, text, text, bigint),
    booking.cancel_following(bigint, bigint),
    booking.update_appointment(bigint, bigint, jsonb, int),
    booking.cancel_appointment(bigint, bigint, int),
    booking.get_appointment(bigint, bigint),
    booking.local_start(bigint, date, time, bigint),
    booking.purge_expired_idempotency_keys(),
    booking.purge_expired_appointment_events(),
    booking.free_slots(bigint, date, text, int, int, int, bigint),
    booking.events_since(bigint, bigint),
    booking.latest_event_id(bigint),
    booking.with_settings(anyelement, text, text, text, text),
    booking.parse_local_date(text, text),
    booking.parse_local_time(text, text),
    booking.list_barbers(bigint),
    booking.list_services(bigint),
    booking.get_barber(bigint),
    booking.shop_of_id(bigint)
    TO booking_app, booking_client;
GRANT EXECUTE ON FUNCTION booking.authenticate_token(bytea) TO booking_app;
-- Shop operations (section 6 of the contract): for a shop's admin, named as the acting
-- user (booking.assert_shop_admin), or for a trusted internal caller. Creating a shop is a
-- platform operation: internal callers only.
GRANT EXECUTE ON FUNCTION
    booking.create_barber(bigint, text, text, bigint),
    booking.create_service(bigint, text, int, int, bigint),
    booking.set_working_hours(bigint, jsonb, bigint, boolean, bigint),
    booking.add_time_off(bigint, timestamptz, timestamptz, text, bigint, boolean),
    booking.get_working_hours(bigint, bigint),
    booking.list_time_off(bigint, bigint, timestamptz),
    booking.set_hold_minutes(bigint, int, bigint),
    booking.set_shop_policy(bigint, int, int, int, int, bigint),
    booking.set_service_policy(bigint, text, int, int, int, int, bigint),
    booking.shop_policy(bigint),
    booking.effective_policy(bigint, text)
    TO booking_app, booking_client;
GRANT EXECUTE ON FUNCTION booking.create_shop(text, text, bigint) TO booking_client;
-- Calendar feeds (issue 15 part 6): a barber's feed for staff or a feed key's holder, and
-- the keys, issued and revoked by an admin of the barber's shop or that barber
-- (booking.assert_barber_staff). The keys' table is never readable.
GRANT EXECUTE ON FUNCTION
    booking.calendar_feed(bigint, bigint, bytea, timestamptz, timestamptz),
    booking.issue_calendar_key(bigint, bytea, bigint),
    booking.revoke_calendar_key(bigint, bigint, bigint)
    TO booking_app, booking_client;
-- The change feed's relay runs in the service (app/relay.py): it relays, reopens a lost
-- slot, and reports the feed's state on /health. booking.record_wal_changes, which takes
-- decoded changes as arguments, is granted to nobody: a caller could forge events with it.
-- The relay that streams the slot calls it with the login of DATABASE_URL, which needs
-- REPLICATION anyway (a superuser, or GRANT EXECUTE on it to that login).
GRANT EXECUTE ON FUNCTION
    booking.relay_change_feed(int, pg_lsn),
    booking.open_logical_change_feed(boolean),
    booking.open_outbox_change_feed(),
    booking.change_feed_status()
    TO booking_app;
-- The generated column and CHECK constraints of the tables call these; a role that is ever
-- granted direct write access needs them too.
GRANT EXECUTE ON FUNCTION
    booking.blocked_interval(timestamptz, int, int, int)
    TO booking_app, booking_client;

-- Bound what one runaway statement of an application role can write to disk: temporary
-- files (sorts, hashes, materialised CTEs that spill) of at most 256 MB per session, for
-- booking_app and for every login that is granted booking_client, in this database.
-- Role defaults apply when that role logs in; the HTTP service, when it logs in as a
-- superuser and runs as DB_ROLE, sets the same limit for its own sessions (TEMP_FILE_LIMIT,
-- app/db.py). temp_file_limit may be set only by a superuser: a migrating role that is not
-- one is told so, and the operator runs these statements once.
DO $$
DECLARE
    r text;
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE NOTICE 'temp_file_limit was not set for the application roles (needs a superuser): run '
                     'ALTER ROLE booking_app IN DATABASE % SET temp_file_limit = ''256MB''', current_database();
        RETURN;
    END IF;
    FOR r IN
        SELECT 'booking_app'
        UNION
        SELECT m.rolname FROM pg_auth_members am
          JOIN pg_roles g ON g.oid = am.roleid AND g.rolname = 'booking_client'
          JOIN pg_roles m ON m.oid = am.member AND m.rolcanlogin AND NOT m.rolsuper
    LOOP
        EXECUTE format('ALTER ROLE %I IN DATABASE %I SET temp_file_limit = %L', r, current_database(), '256MB');
    END LOOP;
END
$$;

-- The change feed in mode logical reads the WAL through a replication slot from functions
-- that run as booking_owner (SECURITY DEFINER), which therefore needs the REPLICATION
-- attribute. booking_owner cannot log in, so it cannot open a replication connection; only
-- the feed's functions use the right. Only a superuser may grant it: a migrating role that
-- is not one leaves it, and the feed falls back to mode outbox (README, "The change feed").
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT (SELECT rolreplication FROM pg_roles WHERE rolname = 'booking_owner') THEN
        ALTER ROLE booking_owner REPLICATION;
    END IF;
END
$$;
-- Schedules (issue 15): the appointments the acting user may see, as booking.actor_role says.
GRANT EXECUTE ON FUNCTION
    booking.list_appointments(bigint, bigint, timestamptz, timestamptz, text, timestamptz, bigint, int)
    TO booking_app, booking_client;
-- Webhooks (issue 16): a shop admin manages the shop's subscriptions (the functions check
-- booking.assert_shop_admin); the delivery worker (app/webhooks.py, in the service or
-- `python -m app deliver`) claims, reports, and reads the backlog for the metrics. The
-- claim answers secrets: the service's role only. The tables are never readable.
GRANT EXECUTE ON FUNCTION
    booking.create_webhook(bigint, text, text[], bigint),
    booking.list_webhooks(bigint, bigint),
    booking.rotate_webhook_secret(bigint, bigint, bigint),
    booking.delete_webhook(bigint, bigint, bigint),
    booking.disable_webhook(bigint, bigint, bigint),
    booking.enable_webhook(bigint, bigint, timestamptz, bigint),
    booking.send_test_webhook(bigint, bigint, bigint),
    booking.list_webhook_deliveries(bigint, bigint, text, timestamptz, int, bigint)
    TO booking_app, booking_client;
GRANT EXECUTE ON FUNCTION
    booking.claim_webhook_deliveries(int, double precision),
    booking.finish_webhook_delivery(bigint, text, int, int, text, double precision, double precision, double precision),
    booking.webhook_backlog(),
    booking.purge_webhook_deliveries()
    TO booking_app;
-- Learning from history (issue 18): staff mark an appointment started and finished
-- (booking.actor_role, through update_appointment); the barber's durations are for that
-- barber and its shop's admins (assert_barber_staff), the default buffers for the admins
-- (assert_shop_admin); the demand the conflict model reads carries no personal data. The
-- service records its own refused attempts (after the refusal, outside the booking's
-- transaction). booking.booking_history, the shop's whole history for `python -m app learn`,
-- is an operator's: granted to nobody. The tables are never readable.
GRANT EXECUTE ON FUNCTION
    booking.start_appointment(bigint, bigint, int),
    booking.finish_appointment(bigint, bigint, int),
    booking.service_durations(bigint, bigint, timestamptz),
    booking.set_service_buffers(bigint, text, int, int, jsonb, bigint),
    booking.slot_demand(bigint, date)
    TO booking_app, booking_client;
GRANT EXECUTE ON FUNCTION booking.record_booking_attempt(bigint, bigint, text, timestamptz) TO booking_app;
