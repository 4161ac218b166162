-- booking.announce_changed_appointments(since) -> number of events added
-- Catch-up for a change feed that lost its source (a replication slot PostgreSQL
-- invalidated, or a server where the slot is gone): announces the current version of every
-- appointment changed since p_since that has no event yet (booking.appointment_change_events
-- with no old row: 'booked' for version 1, else 'changed' or 'cancelled'). What it cannot
-- recover: versions overwritten in between (only the latest is announced) and the old
-- barber of a move. Called by booking.open_logical_change_feed and
-- booking.open_outbox_change_feed, under the relay's lock, so event ids keep growing in
-- relay order.
-- Locks: none beyond the new rows. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.announce_changed_appointments(p_since timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_barbers bigint[];
    v_added   bigint;
BEGIN
    WITH added AS (
        INSERT INTO booking.appointment_events AS e (barber_id, appointment_id, version, kind, payload)
        SELECT ev.barber_id, ev.appointment_id, ev.version, ev.kind, ev.payload
          FROM booking.appointments a
         CROSS JOIN LATERAL booking.appointment_change_events(NULL, a) AS ev
         WHERE a.updated_at >= coalesce(p_since, '-infinity')
         ORDER BY a.updated_at, a.id
        ON CONFLICT (appointment_id, version, barber_id) DO NOTHING
        RETURNING e.barber_id
    )
    SELECT count(*), array_agg(DISTINCT barber_id) INTO v_added, v_barbers FROM added;
    PERFORM pg_notify('booking_events', json_build_object('barber_id', b)::text) FROM unnest(v_barbers) AS b;
    RETURN v_added;
END
$$;
