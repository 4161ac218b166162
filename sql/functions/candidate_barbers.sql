-- booking.candidate_barbers(shop, service) -> ids of the shop's barbers who offer the
-- service (booking.offers), ascending. Used by "any barber" bookings and slot searches.
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.candidate_barbers(p_shop_id bigint, p_service text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(b.id ORDER BY b.id), '{}')
        FROM booking.barbers b
        WHERE b.shop_id = p_shop_id AND booking.offers(b.id, p_service));
END
$$;
