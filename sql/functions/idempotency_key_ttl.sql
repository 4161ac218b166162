-- booking.idempotency_key_ttl() -> interval
-- How long book_appointment() keeps an idempotency key: the session's
-- booking.idempotency_key_ttl, a number and a unit ('24 hours', '36.5 hours', '3 days',
-- '90 minutes', '2 weeks'), never less than 24 hours (a shorter value is raised to 24
-- hours) and at most 3650 days; unset or empty means 24 hours.
-- Locks: none. Raises: BK008 invalid_argument for anything else ('forever', '300000 years').
CREATE OR REPLACE FUNCTION booking.idempotency_key_ttl()
RETURNS interval
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text  text := coalesce(current_setting('booking.idempotency_key_ttl', true), '');
    v_parts text[];
    v_hours numeric;
BEGIN
    IF btrim(v_text) = '' THEN
        RETURN interval '24 hours';
    END IF;
    v_parts := regexp_match(lower(v_text), '^\s*(\d{1,9}(?:\.\d{1,6})?)\s*(minutes?|mins?|hours?|h|days?|d|weeks?)\s*$');
    IF v_parts IS NOT NULL THEN
        v_hours := v_parts[1]::numeric * CASE
            WHEN v_parts[2] LIKE 'min%' THEN 1.0 / 60 WHEN v_parts[2] LIKE 'h%' THEN 1
            WHEN v_parts[2] LIKE 'w%' THEN 168 ELSE 24 END;
        IF v_hours <= 3650 * 24 THEN
            RETURN greatest(make_interval(secs => round(v_hours * 3600)), interval '24 hours');
        END IF;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('booking.idempotency_key_ttl must be a duration such as ''24 hours'' or ''3 days'', at most 3650 days (got %s).',
               booking.shown(v_text)));
END
$$;
