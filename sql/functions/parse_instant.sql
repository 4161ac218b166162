-- booking.parse_instant(field name, text) -> timestamptz
-- Parses an RFC 3339 timestamp that carries its UTC offset ('Z' or +hh:mm), so its meaning
-- never depends on the session's TimeZone; also used for date and time fields through
-- casts. Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.parse_instant(p_field text, p_value text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_value ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)$' THEN
        BEGIN
            IF p_value::timestamptz < timestamptz '9999-12-31 00:00:00+00' THEN
                RETURN p_value::timestamptz;
            END IF;
        EXCEPTION WHEN data_exception THEN   -- 22008 out of range, 22009 bad offset, 22007 ...
            NULL;
        END;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('%s must be an RFC 3339 timestamp with a UTC offset, such as 2026-11-26T10:00:00Z (got %s).',
               p_field, booking.shown(p_value)));
END
$$;
