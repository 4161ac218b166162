-- Trigger booking.check_appointment_overlap() on booking.appointments, BEFORE INSERT and
-- BEFORE UPDATE of the columns that place an appointment.
-- Refuses a row whose blocked interval overlaps another active appointment of the same
-- barber, for every writer: the functions and any role writing the table directly.
-- It reads with the statement's snapshot, so it is exact for writers serialised by the
-- advisory slot locks under READ COMMITTED; a race it cannot see (an unserialised direct
-- writer, REPEATABLE READ) is stopped by the exclusion constraint appointments_no_overlap,
-- whose 23P01 carries PostgreSQL's own message.
-- Locks: none of its own. Raises: 23P01 slot_conflict, DETAIL naming the conflicting
-- appointment and the interval it blocks ("Appointment 17 blocks <from> to <to>.").
CREATE OR REPLACE FUNCTION booking.check_appointment_overlap()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_during   tstzrange;
    v_conflict record;
BEGIN
    IF NEW.status IN ('cancelled', 'no_show', 'expired') THEN
        RETURN NEW;
    END IF;
    -- The generated column blocked_during is not computed yet in a BEFORE trigger.
    v_during := booking.blocked_interval(NEW.start_time, NEW.duration_minutes,
                                         NEW.buffer_time_before, NEW.buffer_time_after);
    SELECT a.id, a.blocked_during, a.status, a.hold_expires_at INTO v_conflict
      FROM booking.appointments a
     WHERE a.barber_id = NEW.barber_id
       AND a.blocked_during && v_during
       AND a.status NOT IN ('cancelled', 'no_show', 'expired')
       AND a.id <> NEW.id
     LIMIT 1;
    IF FOUND AND v_conflict.status = 'held' AND v_conflict.hold_expires_at <= now() THEN
        -- A hold past its expiry blocks nobody, whether or not anything marked it so yet:
        -- the holds of this barber in the way that have expired become 'expired' here, in
        -- this write's statement (before the constraint looks), then the check runs again.
        -- Only a write that meets one pays for it; no sweeper is needed.
        UPDATE booking.appointments a SET status = 'expired'
         WHERE a.barber_id = NEW.barber_id
           AND a.blocked_during && v_during
           AND a.status = 'held'
           AND a.hold_expires_at <= now()
           AND a.id <> NEW.id;
        SELECT a.id, a.blocked_during, a.status, a.hold_expires_at INTO v_conflict
          FROM booking.appointments a
         WHERE a.barber_id = NEW.barber_id
           AND a.blocked_during && v_during
           AND a.status NOT IN ('cancelled', 'no_show', 'expired')
           AND a.id <> NEW.id
         LIMIT 1;
    END IF;
    IF FOUND THEN
        PERFORM booking.raise_error('slot_conflict',
            format('Appointment %s blocks %s to %s.', v_conflict.id,
                   booking.rfc3339(lower(v_conflict.blocked_during)),
                   booking.rfc3339(upper(v_conflict.blocked_during))),
            format('The requested time blocks %s to %s with its buffers.',
                   booking.rfc3339(lower(v_during)), booking.rfc3339(upper(v_during))));
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER appointments_check_overlap
    BEFORE INSERT OR UPDATE OF barber_id, start_time, duration_minutes, buffer_time_before,
                               buffer_time_after, status
    ON booking.appointments
    FOR EACH ROW EXECUTE FUNCTION booking.check_appointment_overlap();
