-- booking.assert_barber_available(barber, time zone, start, duration minutes)
-- Raises unless the barber works for the whole appointment (see booking.unavailability()).
-- Locks: none. Raises: BK006 barber_unavailable (working hours or time off).
CREATE OR REPLACE FUNCTION booking.assert_barber_available(
    p_barber_id bigint, p_timezone text, p_start timestamptz, p_duration_minutes int)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_reason text := booking.unavailability(p_barber_id, p_timezone, p_start, p_duration_minutes);
BEGIN
    IF v_reason IS NOT NULL THEN
        PERFORM booking.raise_error('barber_unavailable', v_reason);
    END IF;
END
$$;
