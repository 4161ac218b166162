-- booking.lock_barber_schedule(barber, exclusive) -> void
-- Orders bookings of a barber with changes of the barber's working hours or time off, so
-- that neither decides on what the other is about to change (a booking outside the new
-- hours, or new hours stranding a booking): whichever comes second waits for the first and
-- then sees it.
--   * A change (p_exclusive, set_working_hours and add_time_off) takes the barber's
--     schedule lock exclusively and updates the barber's row (a no-op update).
--   * A booking or a move (place_appointment, update_appointment) under READ COMMITTED
--     takes the same lock shared: an advisory lock, in memory, which costs a booking no
--     write (a row lock FOR SHARE wrote the barber's row at every booking and made
--     concurrent bookings of one barber share a multixact: 10% of the hot-barber bench);
--     its next statement, after the wait, reads the change. Under REPEATABLE READ or
--     SERIALIZABLE the snapshot is older than the wait, so the booking locks the barber's
--     row FOR SHARE instead: after a change committed, that is 40001, retried in a new
--     transaction with the new hours.
-- Locks: advisory (booking.lock_namespace('barber_schedule'), hashint8(barber)) shared or
--   exclusive, transaction; the barber's row (FOR SHARE, or the update). Both waits are
--   bounded by booking.lock_timeout. Raises: 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking.lock_barber_schedule(p_barber_id bigint, p_exclusive boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key      int := hashint8(p_barber_id);
    v_previous text;
    v_timeout  text;
BEGIN
    IF p_exclusive THEN
        PERFORM booking.take_locks(booking.lock_namespace('barber_schedule'), ARRAY[v_key],
                                   format('The schedule of barber %s', p_barber_id));
        UPDATE booking.barbers b SET name = b.name WHERE b.id = p_barber_id;
        RETURN;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM 1 FROM booking.barbers b WHERE b.id = p_barber_id FOR SHARE;
        RETURN;
    END IF;
    IF pg_try_advisory_xact_lock_shared(booking.lock_namespace('barber_schedule'), v_key) THEN
        RETURN;
    END IF;
    v_previous := current_setting('lock_timeout');
    v_timeout := booking.lock_timeout();
    BEGIN
        PERFORM set_config('lock_timeout', v_timeout, true);
        PERFORM pg_advisory_xact_lock_shared(booking.lock_namespace('barber_schedule'), v_key);
    EXCEPTION WHEN lock_not_available THEN
        PERFORM booking.raise_error('lock_timeout',
            format('The schedule of barber %s was being changed for longer than booking.lock_timeout (%s).',
                   p_barber_id, v_timeout),
            'Retry the request.');
    END;
    PERFORM set_config('lock_timeout', v_previous, true);
END
$$;
