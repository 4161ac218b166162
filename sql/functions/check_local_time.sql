-- booking.check_local_time(field name, time) -> the time
-- A wall-clock time of day: 00:00 up to, not including, 24:00. PostgreSQL's time type also
-- holds 24:00:00 (and reads 23:59:60 as 24:00:00), which would silently mean 00:00 of the
-- next day: refused.
-- STABLE, not IMMUTABLE: its error path reads the error catalogue.
-- Locks: none. Raises: BK008 invalid_argument (NULL included).
CREATE OR REPLACE FUNCTION booking.check_local_time(p_field text, p_time time)
RETURNS time
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_time IS NULL OR p_time >= time '24:00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('%s must be a time of day from 00:00 to 23:59 (got %s).', p_field, coalesce(p_time::text, 'NULL')));
    END IF;
    RETURN p_time;
END
$$;
