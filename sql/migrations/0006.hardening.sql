-- depends: 0005.inlinable_blocked_interval
-- Hardening after the engine review (issue 10):
--   * time zones: a table of IANA names, referenced by barbers.timezone (a foreign key is
--     a real constraint and an index probe; the old CHECK read pg_timezone_names, ~25 ms,
--     on every barber write and accepted names that are not IANA zones);
--   * idempotency keys belong to the acting user: two users (or two internal services
--     acting for different users) never share a key;
--   * working hours may cross midnight (closes_at < opens_at means the next day);
--   * the change feed's retention is the operator's setting, not the caller's.

CREATE TABLE booking.time_zones (
    name text PRIMARY KEY
);

-- The one rule of what counts as a time zone name: PostgreSQL's list, without the
-- entries that are not IANA zones (the server's own `localtime`, tzdata's `Factory` and
-- `posixrules`, and the `posix/` and `right/` copies of the tree). Called by this
-- migration and again by every `make migrate` (app/migrate.py), so a tzdata upgrade adds
-- its new zones; names are never removed (barbers may use them).
CREATE FUNCTION booking.sync_time_zones() RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH added AS (
        INSERT INTO booking.time_zones (name)
        SELECT z.name FROM pg_catalog.pg_timezone_names z
         WHERE z.name NOT IN ('localtime', 'Factory', 'posixrules')
           AND z.name !~ '^(posix|right)/'
        ON CONFLICT (name) DO NOTHING
        RETURNING 1)
    SELECT count(*) FROM added
$$;

DO $$ BEGIN PERFORM booking.sync_time_zones(); END $$;

DO $$
DECLARE
    v_bad text;
BEGIN
    SELECT string_agg(format('barber %s (%s)', b.id, b.timezone), ', ' ORDER BY b.id) INTO v_bad
      FROM booking.barbers b
     WHERE NOT EXISTS (SELECT 1 FROM booking.time_zones z WHERE z.name = b.timezone);
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'these barbers have a time zone that is not an IANA zone: %', v_bad
            USING HINT = 'UPDATE booking.barbers SET timezone = ''<Area/City>'' for them, then migrate again.';
    END IF;
END
$$;

ALTER TABLE booking.barbers
    DROP CONSTRAINT barbers_timezone_valid,
    ADD CONSTRAINT barbers_timezone_fkey FOREIGN KEY (timezone) REFERENCES booking.time_zones (name);
DROP FUNCTION booking.is_valid_timezone(text);

-- Idempotency keys are scoped to the acting user (p_user_id). Keys the HTTP layer used to
-- scope itself ("user:<id>:<key>") become the client's own key again.
ALTER TABLE booking.idempotency_keys ADD COLUMN user_id bigint;
UPDATE booking.idempotency_keys SET user_id = (request ->> 'user_id')::bigint;
UPDATE booking.idempotency_keys
   SET idempotency_key = substr(idempotency_key, length('user:' || user_id || ':') + 1)
 WHERE starts_with(idempotency_key, 'user:' || user_id || ':')
   AND length(idempotency_key) > length('user:' || user_id || ':');
ALTER TABLE booking.idempotency_keys
    ALTER COLUMN user_id SET NOT NULL,
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, idempotency_key),
    DROP CONSTRAINT idempotency_keys_length,
    -- The one rule for a key (book_appointment checks it first, with a catalogue error):
    -- 1 to 200 printable ASCII characters, no spaces. NOT VALID: keys stored before this
    -- rule expire within their lifetime.
    ADD CONSTRAINT idempotency_keys_form CHECK (idempotency_key ~ '^[\x21-\x7e]{1,200}$') NOT VALID;

-- Working hours: a row whose closes_at is earlier than its opens_at ends on the next day
-- (22:00-06:00 is a night shift); closes_at 24:00 (or 00:00) is midnight at the end of
-- the day. A row never has zero length.
ALTER TABLE booking.working_hours
    DROP CONSTRAINT working_hours_closes_after_opening,
    ADD CONSTRAINT working_hours_not_empty CHECK (closes_at <> opens_at),
    ADD CONSTRAINT working_hours_opens_within_day CHECK (opens_at < time '24:00');

-- How long the change feed keeps events: the operator's setting (one row). The service's
-- periodic purge deletes only what this allows; it cannot purge more.
CREATE TABLE booking.retention_policy (
    singleton    boolean PRIMARY KEY DEFAULT true CONSTRAINT retention_policy_one_row CHECK (singleton),
    change_feed  interval NOT NULL DEFAULT interval '7 days'
                 CONSTRAINT retention_policy_change_feed_at_least_an_hour CHECK (change_feed >= interval '1 hour')
);
INSERT INTO booking.retention_policy DEFAULT VALUES;
