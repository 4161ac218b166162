-- booking.change_text(changes, key, pattern, what) -> text
-- Reads one string field of update_appointment()'s p_changes and checks it matches
-- p_pattern (a regular expression); p_what says in words what was expected.
-- STABLE, not IMMUTABLE: its error path reads the error catalogue.
-- Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.change_text(p_changes jsonb, p_key text, p_pattern text, p_what text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_value jsonb := p_changes -> p_key;
BEGIN
    IF jsonb_typeof(v_value) = 'string' AND (v_value #>> '{}') ~ p_pattern THEN
        RETURN v_value #>> '{}';
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('%s must be %s (got %s).', p_key, p_what, CASE WHEN v_value IS NULL THEN 'nothing' ELSE booking.shown(v_value::text, 60, false) END));
END
$$;
