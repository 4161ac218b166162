-- booking.change_integer(changes, key, min, max) -> bigint
-- Reads one whole-number field of update_appointment()'s p_changes.
-- STABLE, not IMMUTABLE: its error path reads the error catalogue.
-- Locks: none. Raises: BK008 invalid_argument when the value is not a whole number in range.
CREATE OR REPLACE FUNCTION booking.change_integer(p_changes jsonb, p_key text, p_min bigint, p_max bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_value jsonb := p_changes -> p_key;
    v_number numeric;
BEGIN
    IF jsonb_typeof(v_value) = 'number' THEN
        v_number := (v_value #>> '{}')::numeric;
        IF v_number = trunc(v_number) AND v_number BETWEEN p_min AND p_max THEN
            RETURN v_number::bigint;
        END IF;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('%s must be a whole number from %s to %s (got %s).', p_key, p_min, p_max, CASE WHEN v_value IS NULL THEN 'nothing' ELSE booking.shown(v_value::text, 60, false) END));
END
$$;
