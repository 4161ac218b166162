-- booking.parse_local_time(field name, text) -> time
-- A wall-clock time written HH:MM (or HH:MM:SS), from 00:00 to 23:59:59: the one reading of
-- a booking time sent as text. 24:00 and 23:59:60, which PostgreSQL's time type reads as
-- midnight of the next day, are refused. No cast that could fail: no subtransaction.
-- SECURITY DEFINER (search_path pinned): granted to the application roles, it raises
-- through the catalogue, which they may not call themselves.
-- Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.parse_local_time(p_field text, p_value text)
RETURNS time
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parts text[] := regexp_match(p_value, '^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$');
BEGIN
    IF v_parts IS NOT NULL THEN
        RETURN make_time(v_parts[1]::int, v_parts[2]::int, coalesce(v_parts[3], '0')::int);
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('%s must be a time of day written HH:MM, from 00:00 to 23:59 (got %s).', p_field, booking.shown(p_value)));
END
$$;
