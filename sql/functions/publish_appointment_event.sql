-- Trigger booking.publish_appointment_event() on booking.appointments, AFTER INSERT OR UPDATE.
-- For every writer, records each booking ('booked'), change ('changed') and cancellation
-- or no-show ('cancelled') in booking.appointment_events and announces it with
-- NOTIFY booking_events, '<the event row as JSON>' (delivered when the transaction commits,
-- never for one that rolls back). A move to another barber is announced to both barbers.
-- The payload carries no client identity or notes: it says which interval changed.
-- Locks: none beyond the event row. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.publish_appointment_event()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_kind    text;
    v_payload jsonb;
    v_barber  bigint;
    v_event   booking.appointment_events;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN
        RETURN NULL;                     -- nothing a person can see changed
    END IF;
    v_kind := CASE
        WHEN TG_OP = 'INSERT' THEN 'booked'
        WHEN NEW.status IN ('cancelled', 'no_show') AND OLD.status NOT IN ('cancelled', 'no_show') THEN 'cancelled'
        ELSE 'changed'
    END;
    v_payload := jsonb_build_object(
        'appointment_id', NEW.id, 'barber_id', NEW.barber_id, 'status', NEW.status,
        'version', NEW.version,
        'start_time', booking.rfc3339(NEW.start_time),
        'end_time', booking.rfc3339(NEW.start_time + make_interval(mins => NEW.duration_minutes)),
        'blocked_from', booking.rfc3339(lower(NEW.blocked_during)),
        'blocked_until', booking.rfc3339(upper(NEW.blocked_during)));
    -- One event per barber concerned, in ascending barber order (a move concerns two).
    FOREACH v_barber IN ARRAY CASE
        WHEN TG_OP = 'UPDATE' AND OLD.barber_id IS DISTINCT FROM NEW.barber_id AND OLD.barber_id IS NOT NULL
        THEN ARRAY[least(OLD.barber_id, NEW.barber_id), greatest(OLD.barber_id, NEW.barber_id)]
        ELSE ARRAY[NEW.barber_id] END
    LOOP
        INSERT INTO booking.appointment_events (barber_id, appointment_id, kind, payload)
        VALUES (v_barber, NEW.id, v_kind, v_payload)
        RETURNING * INTO v_event;
        PERFORM pg_notify('booking_events', to_jsonb(v_event)::text);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER appointments_publish_event
    AFTER INSERT OR UPDATE ON booking.appointments
    FOR EACH ROW EXECUTE FUNCTION booking.publish_appointment_event();
