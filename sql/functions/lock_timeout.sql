-- booking.lock_timeout() -> the session's booking.lock_timeout, '5s' when unset.
-- A caller bounds how long the functions wait for a lock with
--   SET booking.lock_timeout = '200ms';
-- Locks: none. Raises: nothing (an invalid value is rejected when it is applied, 22023).
CREATE OR REPLACE FUNCTION booking.lock_timeout()
RETURNS text
LANGUAGE sql STABLE
-- No SET search_path: PostgreSQL inlines it into its callers (which pin theirs).
AS $$ SELECT coalesce(nullif(current_setting('booking.lock_timeout', true), ''), '5s') $$;
