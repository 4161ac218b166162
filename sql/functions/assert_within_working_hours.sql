-- booking.assert_within_working_hours(barber, time zone, start, duration minutes)
-- Passes when the barber has no working hours at all (bookable any time), or when the
-- appointment itself (buffers excluded: they are the barber's own preparation time)
-- lies within one working-hours row of its local weekday.
-- Locks: none. Raises: BK006 outside_working_hours.
CREATE OR REPLACE FUNCTION booking.assert_within_working_hours(
    p_barber_id bigint, p_timezone text, p_start timestamptz, p_duration_minutes int)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_local_start timestamp := p_start AT TIME ZONE p_timezone;
    v_local_end   timestamp := (p_start + make_interval(mins => p_duration_minutes)) AT TIME ZONE p_timezone;
    v_has_hours   boolean;
    v_fits        boolean;
BEGIN
    SELECT count(*) > 0,
           coalesce(bool_or(w.weekday = extract(isodow FROM v_local_start)
                            AND w.opens_at <= v_local_start::time
                            AND v_local_end <= v_local_start::date + w.closes_at), false)
      INTO v_has_hours, v_fits
      FROM booking.working_hours w
     WHERE w.barber_id = p_barber_id;
    IF v_has_hours AND NOT v_fits THEN
        PERFORM booking.raise_error('outside_working_hours',
            format('%s to %s (%s) is outside the working hours of barber %s.',
                   to_char(v_local_start, 'YYYY-MM-DD HH24:MI'), to_char(v_local_end, 'HH24:MI'),
                   p_timezone, p_barber_id));
    END IF;
END
$$;
