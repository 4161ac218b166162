-- booking.latest_event_id(barber) -> the newest change-feed event id of that barber, 0 if
-- none: where a new Server-Sent Events subscriber starts (see events_since()).
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.latest_event_id(p_barber_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        SELECT coalesce(max(e.id), 0) FROM booking.appointment_events e WHERE e.barber_id = p_barber_id);
END
$$;
