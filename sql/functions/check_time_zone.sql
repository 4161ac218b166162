-- booking.check_time_zone(name) -> the name
-- The rule for the time zone of a shop or a barber: an IANA name PostgreSQL knows
-- (booking.time_zones; the tables' foreign keys say the same, with a raw 23503).
-- Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.check_time_zone(p_zone text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM booking.time_zones z WHERE z.name = p_zone) THEN
        PERFORM booking.raise_error('invalid_argument', format('%s is not an IANA time zone name.', booking.shown(p_zone)));
    END IF;
    RETURN p_zone;
END
$$;
