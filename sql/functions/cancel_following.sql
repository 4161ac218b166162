-- booking.cancel_following(appointment, user) -> the appointments cancelled (rows of
--   booking.appointment_records), by start
-- "Cancel this and the following": appointment p_appointment_id and every later occurrence
-- of its series (booking.book_series) that is still active, each exactly as
-- cancel_appointment cancels one (who may, the status machine), in start order, all or
-- nothing. Occurrences already cancelled, completed or no-show are left as they are. An
-- appointment of no series is cancelled alone.
-- Locks: each row's (FOR UPDATE, bounded by booking.lock_timeout), in start order.
-- Raises: what cancel_appointment raises (BK011, BK012, BK010, 55P03).
CREATE OR REPLACE FUNCTION booking.cancel_following(p_appointment_id bigint, p_user_id bigint)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_first booking.appointment_records;
    v_id    bigint;
BEGIN
    SELECT * INTO v_first FROM booking.get_appointment(p_appointment_id, p_user_id);
    IF NOT FOUND THEN
        PERFORM booking.raise_error('appointment_not_found',
            format('No appointment %s is visible to user %s.', p_appointment_id, p_user_id));
    END IF;
    RETURN QUERY SELECT * FROM booking.cancel_appointment(p_appointment_id, p_user_id);
    IF v_first.series_id IS NULL THEN
        RETURN;
    END IF;
    FOR v_id IN
        SELECT a.id FROM booking.appointments a
         WHERE a.series_id = v_first.series_id AND a.id <> p_appointment_id
           AND (a.start_time, a.id) > (v_first.start_time, v_first.id)
           AND a.status NOT IN ('cancelled', 'completed', 'no_show', 'expired')
         ORDER BY a.start_time, a.id
    LOOP
        RETURN QUERY SELECT * FROM booking.cancel_appointment(v_id, p_user_id);
    END LOOP;
END
$$;
