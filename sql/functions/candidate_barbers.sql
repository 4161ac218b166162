-- booking.candidate_barbers(service) -> ids of the barbers who offer it (booking.offers),
-- ascending. Used by "any barber" bookings and slot searches.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.candidate_barbers(p_service text)
RETURNS bigint[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(b.id ORDER BY b.id), '{}')
    FROM booking.barbers b
    WHERE booking.offers(b.id, p_service)
$$;
