-- booking.latest_event_id(barber) -> the newest change-feed event id of that barber, 0 if
-- none: where a new Server-Sent Events subscriber starts (see events_since()).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.latest_event_id(p_barber_id bigint)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(e.id), 0) FROM booking.appointment_events e WHERE e.barber_id = p_barber_id
$$;
