-- booking.local_to_utc(local timestamp, time zone) -> the instant that wall-clock time
-- names in that zone.
-- The one place local booking times become instants (through local_to_utc_or_null). A
-- local time skipped by a spring-forward change does not exist and is refused; a local
-- time repeated by a fall-back change is ambiguous and resolves to the EARLIER instant
-- (the first time the clock shows it, i.e. the offset in force before the change).
-- Locks: none. Raises: BK007 nonexistent_local_time; BK008 invalid_argument for NULLs.
CREATE OR REPLACE FUNCTION booking.local_to_utc(p_local timestamp, p_timezone text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_instant timestamptz;
BEGIN
    IF p_local IS NULL OR p_timezone IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'A local date, time and time zone are required.');
    END IF;
    v_instant := booking.local_to_utc_or_null(p_local, p_timezone);
    IF v_instant IS NULL THEN
        PERFORM booking.raise_error('nonexistent_local_time',
            format('%s does not exist in %s: the clocks skip it when daylight saving time begins.',
                   to_char(p_local, 'YYYY-MM-DD HH24:MI'), p_timezone),
            'Choose a time before or after the change.');
    END IF;
    RETURN v_instant;
END
$$;
