-- booking.add_time_off(barber, from, to, reason, actor, force) -> the new booking.time_off row
-- The barber is unavailable during [p_from, p_to), even inside working hours. Appointments
-- already booked are not touched: time off that covers active appointments that have not
-- ended is refused, naming them (booking.assert_no_stranded_appointments, BK019), unless
-- p_force. p_actor_user_id: booking.assert_barber_staff, an admin of the barber's shop or
-- that barber themself (a barber adds their own time off); only an admin (or a trusted
-- internal caller) may force.
-- Concurrency: as set_working_hours, the barber's schedule lock is taken exclusively first
-- (booking.lock_barber_schedule, which bookings of this barber take shared before they
-- check availability): a booking checked before this time off existed has committed by the
-- check, and one checked after sees it.
-- Locks: the barber's schedule lock, exclusive, and its row (a no-op UPDATE), the new row.
-- Raises: BK003 barber_not_found, BK014, BK012 not_permitted, BK019 schedule_conflict,
--   BK008 invalid_argument (not finite, from not before to, a reason over 200 characters,
--   a NULL force).
CREATE OR REPLACE FUNCTION booking.add_time_off(
    p_barber_id bigint, p_from timestamptz, p_to timestamptz, p_reason text DEFAULT NULL,
    p_actor_user_id bigint DEFAULT NULL, p_force boolean DEFAULT false)
RETURNS booking.time_off
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row booking.time_off;
BEGIN
    PERFORM booking.assert_barber_staff(p_barber_id, p_actor_user_id);
    IF p_force IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_force is true or false (got NULL).');
    END IF;
    IF p_force AND p_actor_user_id IS NOT NULL THEN
        -- Forcing is the shop's decision: the barber's own token may not.
        PERFORM booking.assert_shop_admin((SELECT b.shop_id FROM booking.barbers b WHERE b.id = p_barber_id),
                                          p_actor_user_id);
    END IF;
    IF p_from IS NULL OR p_to IS NULL OR NOT isfinite(p_from) OR NOT isfinite(p_to) OR p_from >= p_to THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Time off runs from one real instant to a later one (got %s to %s).',
                   coalesce(p_from::text, 'NULL'), coalesce(p_to::text, 'NULL')));
    END IF;
    IF length(p_reason) > 200 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A reason is at most 200 characters (got %s).', length(p_reason)));
    END IF;
    PERFORM booking.lock_barber_schedule(p_barber_id, true);
    INSERT INTO booking.time_off AS t (barber_id, during, reason)
    VALUES (p_barber_id, tstzrange(p_from, p_to, '[)'), p_reason)
    RETURNING t.* INTO v_row;
    PERFORM booking.assert_no_stranded_appointments(p_barber_id, v_row.during, p_force, 'This time off');
    RETURN v_row;
END
$$;
