-- booking.choose_barber(service, duration, start, buffers) -> the barber an "any barber"
-- booking gets.
-- Fair rule: among the barbers who offer the service (candidate_barbers), work then
-- (unavailability) and are free for the whole blocked interval, the one with the fewest
-- active appointments on that local day; ties go to the lowest barber id.
-- Atomic: with application checks on, it first takes the slot locks of EVERY candidate for
-- that interval (one take_slot_locks call, so in ascending order: no deadlock), then
-- decides; concurrent "any barber" bookings of one time therefore queue, and N free
-- barbers take exactly N of them. The caller inserts before its transaction ends.
-- Locks: advisory slot locks of all candidates. Raises: BK006 barber_unavailable (nobody
-- offers the service or works then), 23P01 slot_conflict (everyone who works then is
-- booked), 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking.choose_barber(
    p_service text, p_duration_minutes int, p_start timestamptz, p_buffer_before int, p_buffer_after int)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_candidates bigint[] := booking.candidate_barbers(p_service);
    v_during     tstzrange := booking.blocked_interval(p_start, p_duration_minutes, p_buffer_before, p_buffer_after);
    v_working    int;
    v_choice     bigint;
BEGIN
    IF cardinality(v_candidates) = 0 THEN
        PERFORM booking.raise_error('barber_unavailable', format('No barber offers %s.', quote_literal(p_service)));
    END IF;
    IF booking.application_checks_enabled() THEN
        PERFORM booking.take_slot_locks(v_candidates, array_fill(v_during, ARRAY[cardinality(v_candidates)]));
    END IF;
    -- A new statement: under READ COMMITTED it sees everything committed while we waited.
    SELECT count(*) FILTER (WHERE c.works),
           (array_agg(c.id ORDER BY c.load, c.id) FILTER (WHERE c.works AND c.free))[1]
      INTO v_working, v_choice
      FROM (
        SELECT b.id,
               booking.unavailability(b.id, b.timezone, p_start, p_duration_minutes) IS NULL AS works,
               NOT EXISTS (SELECT 1 FROM booking.appointments a
                            WHERE a.barber_id = b.id AND a.status NOT IN ('cancelled', 'no_show')
                              AND a.blocked_during && v_during) AS free,
               (SELECT count(*) FROM booking.appointments a
                 WHERE a.barber_id = b.id AND a.status NOT IN ('cancelled', 'no_show')
                   AND a.start_time >= ((p_start AT TIME ZONE b.timezone)::date::timestamp AT TIME ZONE b.timezone)
                   AND a.start_time < (((p_start AT TIME ZONE b.timezone)::date + 1)::timestamp AT TIME ZONE b.timezone)
               ) AS load
          FROM booking.barbers b
         WHERE b.id = ANY (v_candidates)
      ) c;
    IF v_choice IS NULL THEN
        IF v_working = 0 THEN
            PERFORM booking.raise_error('barber_unavailable',
                format('None of the %s barbers who offer %s works from %s to %s.', cardinality(v_candidates),
                       quote_literal(p_service), booking.rfc3339(p_start),
                       booking.rfc3339(p_start + make_interval(mins => p_duration_minutes))));
        END IF;
        PERFORM booking.raise_error('slot_conflict',
            format('All %s barbers who offer %s and work then are booked from %s to %s.', v_working,
                   quote_literal(p_service), booking.rfc3339(lower(v_during)), booking.rfc3339(upper(v_during))));
    END IF;
    RETURN v_choice;
END
$$;
