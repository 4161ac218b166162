-- booking.raise_error(name, detail, hint)
-- Raises the error named in booking.error_codes (loaded from sql/errors.csv), with its
-- SQLSTATE and message; DETAIL and HINT carry the specifics. Every error the engine
-- raises goes through here, so the catalogue is the only place a code or message is spelled.
-- Locks: none. Raises: the named error, always; XX000 for a name not in the catalogue.
CREATE OR REPLACE FUNCTION booking.raise_error(p_name text, p_detail text DEFAULT NULL, p_hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e booking.error_codes;
BEGIN
    SELECT * INTO e FROM booking.error_codes WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'booking.raise_error: % is not in the error catalogue', p_name USING ERRCODE = 'XX000';
    END IF;
    IF p_detail IS NOT NULL AND p_hint IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = e.sqlstate, MESSAGE = e.message, DETAIL = p_detail, HINT = p_hint;
    ELSIF p_detail IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = e.sqlstate, MESSAGE = e.message, DETAIL = p_detail;
    ELSIF p_hint IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = e.sqlstate, MESSAGE = e.message, HINT = p_hint;
    ELSE
        RAISE EXCEPTION USING ERRCODE = e.sqlstate, MESSAGE = e.message;
    END IF;
END
$$;
