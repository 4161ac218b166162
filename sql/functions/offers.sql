-- booking.offers(barber, service name) -> boolean
-- Whether a barber offers a service: a barber with no booking.barber_services rows offers
-- every service (like a barber with no working hours works at any time); otherwise only
-- the services listed. The one "offers" rule, applied to a booking with a named barber, to
-- a move to another barber, to the free-slot search and to the "any barber" candidates.
-- PL/pgSQL, not SQL: a SQL function with sub-selects cannot be inlined, and PostgreSQL then
-- parses and plans its body at every call (180 us of a booking); PL/pgSQL keeps the plans.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.offers(p_barber_id bigint, p_service text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN NOT EXISTS (SELECT 1 FROM booking.barber_services bs WHERE bs.barber_id = p_barber_id)
        OR EXISTS (SELECT 1 FROM booking.barber_services bs
                     JOIN booking.services s ON s.id = bs.service_id
                    WHERE bs.barber_id = p_barber_id AND s.name = p_service);
END
$$;
