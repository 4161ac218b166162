-- booking.add_time_off(barber, from, to, reason, actor) -> the new booking.time_off row
-- The barber is unavailable during [p_from, p_to), even inside working hours. Appointments
-- already booked then are not touched. p_actor_user_id: booking.assert_shop_admin for the
-- barber's shop.
-- Locks: the new row. Raises: BK003 barber_not_found, BK014, BK012 not_permitted,
--   BK008 invalid_argument (not finite, from not before to, a reason over 200 characters).
CREATE OR REPLACE FUNCTION booking.add_time_off(
    p_barber_id bigint, p_from timestamptz, p_to timestamptz, p_reason text DEFAULT NULL,
    p_actor_user_id bigint DEFAULT NULL)
RETURNS booking.time_off
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop_id bigint;
    v_row     booking.time_off;
BEGIN
    SELECT b.shop_id INTO v_shop_id FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    PERFORM booking.assert_shop_admin(v_shop_id, p_actor_user_id);
    IF p_from IS NULL OR p_to IS NULL OR NOT isfinite(p_from) OR NOT isfinite(p_to) OR p_from >= p_to THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Time off runs from one real instant to a later one (got %s to %s).',
                   coalesce(p_from::text, 'NULL'), coalesce(p_to::text, 'NULL')));
    END IF;
    IF length(p_reason) > 200 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A reason is at most 200 characters (got %s).', length(p_reason)));
    END IF;
    INSERT INTO booking.time_off AS t (barber_id, during, reason)
    VALUES (p_barber_id, tstzrange(p_from, p_to, '[)'), p_reason)
    RETURNING t.* INTO v_row;
    RETURN v_row;
END
$$;
