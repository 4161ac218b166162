-- booking.free_slots(barber, local date, service, buffers, grid step)
--   -> (start_time, end_time) of every start at which book_appointment() with the same
--      arguments would succeed right now, in time order.
--
-- Candidates lie on a grid of p_step_minutes (default 15) from the opening time of each
-- working-hours row of that local weekday (from 00:00 when the barber has no working hours
-- at all); local times are read in the barber's time zone like local_start() does (a time
-- skipped by a spring-forward change is never offered; a repeated one is its earlier
-- instant). A candidate is offered when, exactly as book_appointment() checks it:
--   * it does not start in the past (now());
--   * booking.unavailability() finds the barber working (hours and time off);
--   * its blocked interval, buffers included, overlaps no active appointment's.
-- It reads a snapshot and takes no lock, so a slot may be gone by the time it is booked:
-- book_appointment() remains the judge.
-- p_barber_id NULL: the union of the free starts of every barber who offers the service.
-- Locks: none. Raises: BK003 barber_not_found, BK004 service_not_found, BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.free_slots(
    p_barber_id     bigint,
    p_date          date,
    p_service       text,
    p_buffer_before int DEFAULT 0,
    p_buffer_after  int DEFAULT 0,
    p_step_minutes  int DEFAULT 15)
RETURNS TABLE (start_time timestamptz, end_time timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_timezone text;
    v_duration int;
BEGIN
    IF p_date IS NULL OR p_step_minutes IS NULL OR p_step_minutes NOT BETWEEN 1 AND 1440
       OR p_buffer_before IS NULL OR p_buffer_before NOT BETWEEN 0 AND 1440
       OR p_buffer_after IS NULL OR p_buffer_after NOT BETWEEN 0 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            'A date, buffers of 0 to 1440 minutes and a grid step of 1 to 1440 minutes are required.');
    END IF;
    IF p_barber_id IS NULL THEN
        -- "Any barber": a start is free when at least one barber who offers the service is
        -- free then, which is exactly when an "any barber" booking succeeds.
        IF NOT EXISTS (SELECT 1 FROM booking.services s WHERE s.name = p_service) THEN
            PERFORM booking.raise_error('service_not_found', format('No service is named %s.', quote_literal(coalesce(p_service, 'NULL'))));
        END IF;
        RETURN QUERY
            SELECT DISTINCT f.start_time, f.end_time
              FROM unnest(booking.candidate_barbers(p_service)) AS c(id)
             CROSS JOIN LATERAL booking.free_slots(c.id, p_date, p_service, p_buffer_before, p_buffer_after,
                                                   p_step_minutes) f
             ORDER BY f.start_time;
        RETURN;
    END IF;
    SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    SELECT s.duration_minutes INTO v_duration FROM booking.services s WHERE s.name = p_service;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('service_not_found', format('No service is named %s.', quote_literal(coalesce(p_service, 'NULL'))));
    END IF;

    -- Each candidate's instant and blocked interval are computed once (MATERIALIZED), and
    -- the barber's active appointments that could overlap any candidate are read with one
    -- index scan over the window the candidates span; the overlap test then runs in memory.
    -- Only the starts that overlap nothing are then asked booking.unavailability() (two
    -- queries per call): on a busy day that is a few calls instead of one per grid point.
    -- The fences (MATERIALIZED) fix that order, which PostgreSQL would otherwise choose by
    -- estimated cost; the plan stays cheap whether it is a custom or a generic one.
    RETURN QUERY
    WITH shifts AS (
        -- (first start, last start) of each working-hours row of the weekday
        SELECT p_date + w.opens_at AS first_start, p_date + w.closes_at - make_interval(mins => v_duration) AS last_start
          FROM booking.working_hours w
         WHERE w.barber_id = p_barber_id AND w.weekday = extract(isodow FROM p_date)
        UNION ALL
        -- no working hours at all: any start on that date (it may end after midnight)
        SELECT p_date + time '00:00', p_date + time '23:59:59'
         WHERE NOT EXISTS (SELECT 1 FROM booking.working_hours w WHERE w.barber_id = p_barber_id)
    ), instants AS MATERIALIZED (
        SELECT DISTINCT booking.local_to_utc_or_null(local_start, v_timezone) AS instant
          FROM shifts sh
         CROSS JOIN LATERAL generate_series(sh.first_start, sh.last_start,
                                            make_interval(mins => p_step_minutes)) AS local_start
    ), candidates AS MATERIALIZED (
        SELECT i.instant, booking.blocked_interval(i.instant, v_duration, p_buffer_before, p_buffer_after) AS blocked
          FROM instants i
         WHERE i.instant IS NOT NULL
           AND i.instant >= now()
    ), busy AS MATERIALIZED (
        SELECT a.blocked_during
          FROM booking.appointments a
         WHERE a.barber_id = p_barber_id
           AND a.status NOT IN ('cancelled', 'no_show')
           AND a.blocked_during && (SELECT CASE WHEN count(*) = 0 THEN 'empty'::tstzrange
                                                ELSE tstzrange(min(lower(c.blocked)), max(upper(c.blocked)), '[)') END
                                      FROM candidates c)
    ), overlapping_nothing AS MATERIALIZED (
        SELECT c.instant
          FROM candidates c
         WHERE NOT EXISTS (SELECT 1 FROM busy b WHERE b.blocked_during && c.blocked)
    )
    SELECT f.instant, f.instant + make_interval(mins => v_duration)
      FROM overlapping_nothing f
     WHERE booking.unavailability(p_barber_id, v_timezone, f.instant, v_duration) IS NULL
     ORDER BY f.instant;
END
$$;
