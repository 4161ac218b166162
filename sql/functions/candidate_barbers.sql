-- booking.candidate_barbers(service) -> ids of the barbers who offer it, ascending
-- A barber offers a service when booking.barber_services lists it, or when the barber has
-- no barber_services rows at all. Used by "any barber" bookings and slot searches.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.candidate_barbers(p_service text)
RETURNS bigint[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(b.id ORDER BY b.id), '{}')
    FROM booking.barbers b
    WHERE NOT EXISTS (SELECT 1 FROM booking.barber_services bs WHERE bs.barber_id = b.id)
       OR EXISTS (SELECT 1 FROM booking.barber_services bs
                  JOIN booking.services s ON s.id = bs.service_id
                  WHERE bs.barber_id = b.id AND s.name = p_service)
$$;
