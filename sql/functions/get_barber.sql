-- booking.get_barber(barber) -> the barber (id, name, IANA time zone, shop), or no row
-- Whether a barber exists (the event stream answers 404 otherwise); a function for the
-- same reason as booking.list_barbers().
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.get_barber(p_barber_id bigint)
RETURNS TABLE (id bigint, name text, timezone text, shop_id bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT b.id, b.name, b.timezone, b.shop_id FROM booking.barbers b WHERE b.id = p_barber_id;
END;
