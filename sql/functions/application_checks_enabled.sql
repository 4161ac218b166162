-- booking.application_checks_enabled() -> boolean
-- The session's booking.application_checks: on (the default), or off to skip the advisory
-- slot locks (the trigger and the exclusion constraint are never skipped). Accepts what a
-- boolean setting accepts: on/off, true/false, yes/no, 1/0, in any case.
-- Locks: none. Raises: BK008 invalid_argument for any other value.
CREATE OR REPLACE FUNCTION booking.application_checks_enabled()
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text text := lower(btrim(coalesce(current_setting('booking.application_checks', true), '')));
BEGIN
    IF v_text IN ('', 'on', 'true', 'yes', '1') THEN
        RETURN true;
    ELSIF v_text IN ('off', 'false', 'no', '0') THEN
        RETURN false;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('booking.application_checks must be on or off (got %s).',
               booking.shown(current_setting('booking.application_checks', true))));
END
$$;
