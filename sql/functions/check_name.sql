-- booking.check_name(what, name) -> the name without surrounding spaces
-- The rule for the name of a shop, barber or service (the tables' CHECKs say the same):
-- 1 to 200 characters once trimmed. p_what names the thing for the DETAIL ('shop').
-- Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.check_name(p_what text, p_name text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_name IS NULL OR length(btrim(p_name)) NOT BETWEEN 1 AND 200 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A %s''s name is 1 to 200 characters (got %s).', p_what, booking.shown(p_name)));
    END IF;
    RETURN btrim(p_name);
END
$$;
