-- booking.lock_timeout() -> text, e.g. '5000ms'
-- The longest a booking function waits for a lock: the session's booking.lock_timeout
-- ('200ms', '2s', '1min', a bare number of milliseconds, as PostgreSQL's lock_timeout
-- reads it), 5 seconds when unset. The value is checked here, so a bad one is a catalogue
-- error every time it is read, not PostgreSQL's 22023 under load only: it must be a
-- positive duration of at most 2147483647 ms (0, which PostgreSQL reads as "wait
-- forever", is refused: the functions always bound their waits).
-- Returned in milliseconds, ready for set_config('lock_timeout', ...).
-- Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.lock_timeout()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text  text := coalesce(nullif(current_setting('booking.lock_timeout', true), ''), '5s');
    v_parts text[] := regexp_match(v_text, '^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(us|ms|s|min|h|d)?\s*$');
    v_ms    numeric;
BEGIN
    IF v_parts IS NOT NULL THEN
        v_ms := v_parts[1]::numeric * CASE coalesce(v_parts[2], 'ms')
            WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'min' THEN 60000
            WHEN 'h' THEN 3600000 ELSE 86400000 END;
        IF v_ms >= 1 AND v_ms <= 2147483647 THEN
            RETURN round(v_ms)::bigint || 'ms';
        END IF;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('booking.lock_timeout must be a positive duration of at most 2147483647 ms, such as ''200ms'' or ''2s'' (got %s).',
               booking.shown(v_text)));
END
$$;
