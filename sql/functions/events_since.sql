-- booking.events_since(barber, last event id seen) -> that barber's change events after
-- the id, oldest first, at most 1000 (for a Server-Sent Events client reconnecting with
-- Last-Event-ID). Event ids grow with each write but two concurrent transactions may
-- commit out of id order, so a client that reconnects may see an older id late; events
-- are facts about one appointment and carry its version, so they can be applied in any order.
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.events_since(p_barber_id bigint, p_after_id bigint)
RETURNS SETOF booking.appointment_events
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT e.*
        FROM booking.appointment_events e
        WHERE e.barber_id = p_barber_id AND e.id > coalesce(p_after_id, 0)
        ORDER BY e.id
        LIMIT 1000;
END
$$;
