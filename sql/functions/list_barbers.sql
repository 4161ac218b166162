-- booking.list_barbers(shop) -> the shop's barbers (id, name, IANA time zone, shop), by id
-- The booking page's picker and GET /barbers. A function rather than a SELECT of the
-- table so that it answers the same through a cluster's proxy, which has no rows.
-- Locks: none. Raises: nothing (no rows for an unknown shop).
CREATE OR REPLACE FUNCTION booking.list_barbers(p_shop_id bigint)
RETURNS TABLE (id bigint, name text, timezone text, shop_id bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT b.id, b.name, b.timezone, b.shop_id FROM booking.barbers b WHERE b.shop_id = p_shop_id ORDER BY b.id;
END;
