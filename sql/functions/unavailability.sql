-- booking.unavailability(barber, time zone, start, duration minutes) -> text or NULL
-- NULL when the barber works for the whole appointment, otherwise a sentence saying why
-- not. The one definition of "the barber works then", shared by booking (through
-- assert_barber_available) and the free-slot search, so the two always agree:
--   * a barber with no working_hours rows at all works at any time; otherwise the
--     appointment itself (buffers excluded: they are the barber's own preparation time)
--     lies within one working_hours row of its local weekday, in the barber's time zone;
--   * the appointment does not overlap any of the barber's time_off intervals.
-- Locks: none. Raises: nothing.
-- Performance: it runs for every booking and for every candidate of the slot search, so it
-- does not pin search_path (a SET clause costs a GUC change on every call, about a third
-- of its time): its tables are schema-qualified, the rest are pg_catalog built-ins, which
-- PostgreSQL searches first when the path does not name pg_catalog; it is not SECURITY
-- DEFINER, and its callers pin their own search_path.
CREATE OR REPLACE FUNCTION booking.unavailability(
    p_barber_id bigint, p_timezone text, p_start timestamptz, p_duration_minutes int)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_end         timestamptz := p_start + make_interval(mins => p_duration_minutes);
    v_local_start timestamp := p_start AT TIME ZONE p_timezone;
    v_local_end   timestamp := v_end AT TIME ZONE p_timezone;
    v_has_hours   boolean;
    v_fits        boolean;
    v_off         record;
BEGIN
    SELECT count(*) > 0,
           coalesce(bool_or(w.weekday = extract(isodow FROM v_local_start)
                            AND w.opens_at <= v_local_start::time
                            AND v_local_end <= v_local_start::date + w.closes_at), false)
      INTO v_has_hours, v_fits
      FROM booking.working_hours w
     WHERE w.barber_id = p_barber_id;
    IF v_has_hours AND NOT v_fits THEN
        RETURN format('%s to %s (%s) is outside the working hours of barber %s.',
                      to_char(v_local_start, 'YYYY-MM-DD HH24:MI'), to_char(v_local_end, 'HH24:MI'),
                      p_timezone, p_barber_id);
    END IF;
    SELECT t.during, t.reason INTO v_off
      FROM booking.time_off t
     WHERE t.barber_id = p_barber_id AND t.during && tstzrange(p_start, v_end, '[)')
     LIMIT 1;
    IF FOUND THEN
        RETURN format('Barber %s is off from %s to %s%s.', p_barber_id,
                      booking.rfc3339(lower(v_off.during)), booking.rfc3339(upper(v_off.during)),
                      coalesce(' (' || v_off.reason || ')', ''));
    END IF;
    RETURN NULL;
END
$$;
