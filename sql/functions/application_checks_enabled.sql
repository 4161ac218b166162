-- booking.application_checks_enabled() -> false only when the session set
--   SET booking.application_checks = off;
-- Off skips the advisory locks the functions take before writing (the layer that turns
-- races into orderly waits). The trigger and the exclusion constraint are not affected:
-- the guarantee that no barber is double-booked cannot be switched off.
-- Locks: none. Raises: 22P02 for a value that is not a boolean.
CREATE OR REPLACE FUNCTION booking.application_checks_enabled()
RETURNS boolean
LANGUAGE sql STABLE
-- No SET search_path: PostgreSQL inlines it into its callers (which pin theirs).
AS $$ SELECT coalesce(nullif(current_setting('booking.application_checks', true), ''), 'on')::boolean $$;
