-- booking.list_services(shop) -> the shop's services (name, length, price, shop), by name
-- The booking page's picker and GET /services; a function for the same reason as
-- booking.list_barbers().
-- Locks: none. Raises: nothing (no rows for an unknown shop).
CREATE OR REPLACE FUNCTION booking.list_services(p_shop_id bigint)
RETURNS TABLE (name text, duration_minutes int, price_cents int, shop_id bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT s.name, s.duration_minutes, s.price_cents, s.shop_id FROM booking.services s
    WHERE s.shop_id = p_shop_id ORDER BY s.name;
END;
