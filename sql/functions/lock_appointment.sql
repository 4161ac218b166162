-- booking.lock_appointment(appointment, what) -> its row, locked FOR UPDATE (NULL fields
-- when there is no such row)
-- The row lock of every change of one appointment (update_appointment, confirm_hold),
-- bounded like every other wait: booking.lock_timeout, then 55P03 naming p_what. Under
-- READ COMMITTED a concurrent change makes it wait and then read the newest version. The
-- caller's lock_timeout is restored afterwards.
-- Locks: the row, FOR UPDATE. Raises: 55P03 lock_timeout, BK008 (a bad booking.lock_timeout).
CREATE OR REPLACE FUNCTION booking.lock_appointment(p_appointment_id bigint, p_what text)
RETURNS booking.appointments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row      booking.appointments;
    v_timeout  text := booking.lock_timeout();
    v_previous CONSTANT text := current_setting('lock_timeout');
BEGIN
    BEGIN
        PERFORM set_config('lock_timeout', v_timeout, true);
        SELECT * INTO v_row FROM booking.appointments a WHERE a.id = p_appointment_id FOR UPDATE;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM booking.raise_error('lock_timeout',
            format('%s was held by another change for longer than booking.lock_timeout (%s).', p_what, v_timeout),
            'Retry the request.');
    END;
    PERFORM set_config('lock_timeout', v_previous, true);
    RETURN v_row;
END
$$;
