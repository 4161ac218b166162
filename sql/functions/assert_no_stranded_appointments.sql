-- booking.assert_no_stranded_appointments(barber, window, force, change)
-- After a change of a barber's working hours or time off, in the same transaction: the
-- barber's active appointments (status not cancelled, no_show or expired, and not a hold
-- past its hold_expires_at: free_slots' predicate) that have not ended yet (end after
-- now()) and overlap p_window, which booking.unavailability() now finds outside the
-- barber's working time (the one definition booking uses), are "stranded". Unless p_force,
-- any stranded appointment refuses the change (the caller's transaction rolls back with
-- it): BK019, whose DETAIL says how many and lists the first 10 by start (id and
-- [start, end) in RFC 3339). p_change names the change in the message ("the new working
-- hours", "this time off").
-- The caller must hold the lock that orders it with bookings of this barber
-- (booking.lock_barber_schedule, exclusive: place_appointment and update_appointment take
-- it shared before they check availability), so that under READ COMMITTED this statement
-- sees every booking that was checked against the old schedule.
-- Locks: none. Raises: BK019 schedule_conflict.
CREATE OR REPLACE FUNCTION booking.assert_no_stranded_appointments(
    p_barber_id bigint, p_window tstzrange, p_force boolean, p_change text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count int;
    v_list  text;
BEGIN
    IF p_force THEN
        RETURN;
    END IF;
    WITH stranded AS (
        SELECT a.id, a.start_time, a.start_time + make_interval(mins => a.duration_minutes) AS end_time
          FROM booking.appointments a
          JOIN booking.barbers b ON b.id = a.barber_id
         WHERE a.barber_id = p_barber_id
           AND a.status NOT IN ('cancelled', 'no_show', 'expired')
           AND (a.status <> 'held' OR a.hold_expires_at > now())
           AND a.start_time + make_interval(mins => a.duration_minutes) > now()
           AND tstzrange(a.start_time, a.start_time + make_interval(mins => a.duration_minutes), '[)') && p_window
           AND booking.unavailability(a.barber_id, b.timezone, a.start_time, a.duration_minutes) IS NOT NULL
    )
    SELECT count(*)::int,
           string_agg(format('%s (%s to %s)', s.id, booking.rfc3339(s.start_time), booking.rfc3339(s.end_time)),
                      ', ' ORDER BY s.start_time, s.id) FILTER (WHERE s.n <= 10)
      INTO v_count, v_list
      FROM (SELECT st.*, row_number() OVER (ORDER BY st.start_time, st.id) AS n FROM stranded st) s;
    IF v_count > 0 THEN
        PERFORM booking.raise_error('schedule_conflict',
            format('%s would leave %s active appointment%s of barber %s outside the working time%s: %s.',
                   p_change, v_count, CASE WHEN v_count = 1 THEN '' ELSE 's' END, p_barber_id,
                   CASE WHEN v_count > 10 THEN ', the first 10' ELSE '' END, v_list),
            'Move or cancel them first, or pass p_force => true (force) to keep them as they are.');
    END IF;
END
$$;
