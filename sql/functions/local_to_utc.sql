-- booking.local_to_utc(local timestamp, time zone) -> the instant that wall-clock time
-- names in that zone.
-- The one place local booking times become instants. A local time skipped by a
-- spring-forward change does not exist and is refused; a local time repeated by a
-- fall-back change is ambiguous and resolves to the EARLIER instant (the first time
-- the clock shows it, i.e. the offset in force before the change).
-- Locks: none. Raises: BK007 nonexistent_local_time; BK008 invalid_argument for NULLs.
CREATE OR REPLACE FUNCTION booking.local_to_utc(p_local timestamp, p_timezone text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_guess     timestamptz;
    v_candidate timestamptz;
    v_best      timestamptz;
    v_offset    interval;
BEGIN
    IF p_local IS NULL OR p_timezone IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'A local date, time and time zone are required.');
    END IF;
    v_guess := p_local AT TIME ZONE p_timezone;
    -- Every offset in force within a day of the guess; a valid reading uses one of them.
    FOR v_offset IN
        SELECT DISTINCT (t AT TIME ZONE p_timezone) - (t AT TIME ZONE 'UTC')
        FROM unnest(ARRAY[v_guess - interval '26 hours', v_guess, v_guess + interval '26 hours']) AS t
    LOOP
        v_candidate := (p_local - v_offset) AT TIME ZONE 'UTC';
        IF v_candidate AT TIME ZONE p_timezone = p_local
           AND (v_best IS NULL OR v_candidate < v_best) THEN
            v_best := v_candidate;
        END IF;
    END LOOP;
    IF v_best IS NULL THEN
        PERFORM booking.raise_error('nonexistent_local_time',
            format('%s does not exist in %s: the clocks skip it when daylight saving time begins.',
                   to_char(p_local, 'YYYY-MM-DD HH24:MI'), p_timezone),
            'Choose a time before or after the change.');
    END IF;
    RETURN v_best;
END
$$;
