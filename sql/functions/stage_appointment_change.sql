-- Trigger booking.stage_appointment_change() on booking.appointments, AFTER INSERT OR UPDATE:
-- the change feed's outbox. In mode outbox (booking.change_feed.mode) it writes the events
-- of each write (booking.appointment_change_events) into booking.appointment_changes, in
-- the writer's transaction, for every writer, and announces nothing: the relay
-- (booking.relay_change_feed) moves them into booking.appointment_events after they
-- commit, and notifies. In mode logical the trigger is disabled and the booking's
-- transaction writes nothing for the feed: the relay reads the WAL instead.
-- Locks: none beyond the outbox row. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.stage_appointment_change()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO booking.appointment_changes (barber_id, appointment_id, version, kind, payload)
    SELECT e.barber_id, e.appointment_id, e.version, e.kind, e.payload
      FROM booking.appointment_change_events(OLD, NEW) AS e;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER appointments_stage_change
    AFTER INSERT OR UPDATE ON booking.appointments
    FOR EACH ROW EXECUTE FUNCTION booking.stage_appointment_change();

-- CREATE OR REPLACE TRIGGER enables the trigger: keep it off in mode logical.
DO $$
BEGIN
    IF (SELECT f.mode FROM booking.change_feed f) = 'logical' THEN
        ALTER TABLE booking.appointments DISABLE TRIGGER appointments_stage_change;
    END IF;
END
$$;
