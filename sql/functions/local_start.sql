-- booking.local_start(barber, local date, local time, shop) -> timestamptz
-- Reads a booking's local date and time in the barber's time zone (see local_to_utc()
-- for the daylight-saving rules). The HTTP service sends booking_date/booking_time here.
-- With p_barber_id NULL ("any barber" of shop p_shop_id, NULL: the default shop) the zone
-- is the one all the shop's barbers share; when they are in several zones a local time is
-- ambiguous and BK008 asks for a barber.
-- The date must be a real date from 0001-01-01 to 9999-12-31 and the time before 24:00
-- (booking.check_local_date, booking.check_local_time).
-- Locks: none. Raises: BK003 barber_not_found, BK007 nonexistent_local_time,
-- BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.local_start(p_barber_id bigint, p_date date, p_time time,
                                                p_shop_id bigint DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_timezone text;
    v_zones    bigint;
BEGIN
    PERFORM booking.check_local_date('booking_date', p_date);
    PERFORM booking.check_local_time('booking_time', p_time);
    IF p_barber_id IS NULL THEN
        -- "Any barber": the shop's time zone, which all barbers must share.
        SELECT min(b.timezone), count(DISTINCT b.timezone) INTO v_timezone, v_zones
          FROM booking.barbers b WHERE b.shop_id = coalesce(p_shop_id, 1);
        IF v_zones = 0 THEN
            PERFORM booking.raise_error('barber_not_found',
                format('Shop %s has no barbers.', coalesce(p_shop_id, 1)));
        ELSIF v_zones > 1 THEN
            PERFORM booking.raise_error('invalid_argument',
                'The barbers work in several time zones, so a local time needs a barber; choose one.');
        END IF;
    ELSE
        SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = p_barber_id;
        IF NOT FOUND THEN
            PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', p_barber_id));
        END IF;
    END IF;
    RETURN booking.local_to_utc(p_date + p_time, v_timezone);
END
$$;
