-- booking.local_start(barber, local date, local time) -> timestamptz
-- Reads a booking's local date and time in the barber's time zone (see local_to_utc()
-- for the daylight-saving rules). The HTTP service sends booking_date/booking_time here.
-- Locks: none. Raises: BK003 barber_not_found, BK007 nonexistent_local_time,
-- BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.local_start(p_barber_id bigint, p_date date, p_time time)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_timezone text;
BEGIN
    IF p_date IS NULL OR p_time IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'A booking date and time are required.');
    END IF;
    SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    RETURN booking.local_to_utc(p_date + p_time, v_timezone);
END
$$;
