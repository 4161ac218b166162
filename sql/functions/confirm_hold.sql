-- booking.confirm_hold(hold, user) -> one row of booking.appointment_records: the appointment
-- Turns a hold (booking.hold_slot) into the appointment, atomically: the same row becomes
-- status 'scheduled' (same id, version + 1), so the slot it held passes to the appointment
-- without ever being free. The clock is read once (now(), the transaction's start): a hold
-- whose hold_expires_at is not after it is expired, BK017, even if no write has marked it so
-- yet. Idempotent by itself: confirming a hold that was already confirmed answers the
-- appointment again with replayed = true and changes nothing (two confirms, concurrent or
-- not, make one appointment: the second waits for the first's row lock, then replays).
-- Who may: the client who holds it, its barber, an admin (booking.actor_role); to anyone
-- else it does not exist (BK011).
-- Locks: the row (FOR UPDATE, bounded by booking.lock_timeout).
-- Raises: BK011 appointment_not_found, BK017 hold_expired (expired, or released by
--   cancel_appointment), BK018 not_a_hold, 55P03 lock_timeout, BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.confirm_hold(p_hold_id bigint, p_user_id bigint)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_old          booking.appointments;
    v_out          booking.appointment_records;
BEGIN
    IF p_hold_id IS NULL OR p_user_id IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_hold_id and p_user_id are required.');
    END IF;
    v_old := booking.lock_appointment(p_hold_id, format('Hold %s', p_hold_id));
    IF v_old.id IS NULL OR booking.actor_role(p_user_id, v_old.user_id, v_old.barber_id) IS NULL THEN
        PERFORM booking.raise_error('appointment_not_found',
            format('No hold %s is visible to user %s.', p_hold_id, p_user_id));
    END IF;
    IF v_old.hold_expires_at IS NULL THEN
        PERFORM booking.raise_error('not_a_hold', format('Appointment %s was booked, not held.', p_hold_id));
    END IF;
    IF v_old.status = 'held' AND v_old.hold_expires_at > now() THEN
        UPDATE booking.appointments a SET status = 'scheduled' WHERE a.id = p_hold_id;
        RETURN QUERY SELECT * FROM booking.appointment_records r WHERE r.id = p_hold_id;
        RETURN;
    END IF;
    IF v_old.status IN ('held', 'expired', 'cancelled') THEN
        PERFORM booking.raise_error('hold_expired',
            CASE WHEN v_old.status = 'cancelled'
                 THEN format('Hold %s was released.', p_hold_id)
                 ELSE format('Hold %s expired at %s.', p_hold_id, booking.rfc3339(v_old.hold_expires_at)) END,
            'Take a new hold, or book the slot if it is still free.');
    END IF;
    -- Confirmed before (and perhaps changed since): the appointment, as it is now.
    SELECT * INTO v_out FROM booking.appointment_records r WHERE r.id = p_hold_id;
    v_out.replayed := true;
    RETURN NEXT v_out;
END
$$;
