-- booking.unavailability(barber, time zone, start, duration minutes) -> text or NULL
-- NULL when the barber works for the whole appointment, otherwise a sentence saying why
-- not. The one definition of "the barber works then", shared by booking (through
-- assert_barber_available) and the free-slot search, so the two always agree:
--   * a barber with no working_hours rows at all works at any time;
--   * otherwise the appointment itself (buffers excluded: they are the barber's own
--     preparation time) lies within the barber's working time, read in the barber's time
--     zone. Working time is the union of the working_hours rows of each local day: a row
--     (weekday, opens_at, closes_at) covers [day + opens_at, day + closes_at), and a row
--     whose closes_at is not after its opens_at ends on the next day (22:00-06:00 is a
--     night shift; closes_at 24:00 or 00:00 is the day's end). Rows that touch or overlap
--     make one stretch: with shifts 09:00-12:00 and 12:00-17:00, 11:45-12:15 is working
--     time, and so is 23:30-00:30 for a barber working 22:00-24:00 and then 00:00-06:00;
--   * the appointment does not overlap any of the barber's time_off intervals.
-- Locks: none. Raises: nothing.
-- Performance: it runs for every booking and for every candidate of the slot search that
-- overlaps no appointment, so it does not pin search_path (a SET clause costs a GUC change
-- on every call): its tables are schema-qualified, the rest are pg_catalog built-ins,
-- which PostgreSQL searches first when the path does not name pg_catalog; it is not
-- SECURITY DEFINER, and its callers pin their own search_path. One query in the common
-- case: the barber's rows of the days around the appointment, walked in order.
CREATE OR REPLACE FUNCTION booking.unavailability(
    p_barber_id bigint, p_timezone text, p_start timestamptz, p_duration_minutes int)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_end         timestamptz := p_start + make_interval(mins => p_duration_minutes);
    v_local_start timestamp := p_start AT TIME ZONE p_timezone;
    v_local_end   timestamp := v_end AT TIME ZONE p_timezone;
    v_reach       timestamp := v_local_start;     -- covered by working time up to here
    v_shift       record;
    v_off         record;
BEGIN
    -- Rows of the day before (a night shift reaching into this one) to the last day the
    -- appointment touches, in order of opening: extend the covered stretch while each next
    -- row starts no later than where the stretch ends.
    FOR v_shift IN
        SELECT s.opens, s.closes
          FROM (SELECT d.day + w.opens_at AS opens,
                       d.day + w.closes_at + CASE WHEN w.closes_at <= w.opens_at THEN interval '1 day'
                                                  ELSE interval '0' END AS closes
                  FROM generate_series(0, v_local_end::date - v_local_start::date + 1) AS g(i)
                 CROSS JOIN LATERAL (SELECT v_local_start::date - 1 + g.i AS day) AS d
                  JOIN booking.working_hours w
                    ON w.barber_id = p_barber_id AND w.weekday = extract(isodow FROM d.day)) s
         WHERE s.closes > v_local_start AND s.opens < v_local_end
         ORDER BY s.opens
    LOOP
        EXIT WHEN v_shift.opens > v_reach OR v_reach >= v_local_end;
        v_reach := greatest(v_reach, v_shift.closes);
    END LOOP;
    IF v_reach < v_local_end
       AND EXISTS (SELECT 1 FROM booking.working_hours w WHERE w.barber_id = p_barber_id) THEN
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
