-- booking.check_local_date(field name, date) -> the date
-- A calendar date a caller may ask about: a real day from 0001-01-01 to 9999-12-31.
-- 'infinity' and '-infinity' (which asyncpg sends for Python's date.max and date.min) and
-- dates before the common era are refused: a slot search over an infinite day would never
-- end, and the timestamps of a day before year 1 or after 9999 fall outside what the
-- engine handles.
-- STABLE, not IMMUTABLE: its error path reads the error catalogue.
-- Locks: none. Raises: BK008 invalid_argument (NULL included).
CREATE OR REPLACE FUNCTION booking.check_local_date(p_field text, p_date date)
RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_date IS NULL OR NOT isfinite(p_date) OR p_date < date '0001-01-01' OR p_date > date '9999-12-31' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('%s must be a date from 0001-01-01 to 9999-12-31 (got %s).', p_field, coalesce(p_date::text, 'NULL')));
    END IF;
    RETURN p_date;
END
$$;
