-- booking.free_slots(barber, local date, service, buffers, grid step, shop)
--   -> (start_time, end_time) of every start at which book_appointment() with the same
--      arguments would succeed right now, in time order.
--
-- Candidates are the local starts on p_date on a grid of p_step_minutes (default 15) from
-- the beginning of each stretch of contiguous working time (booking.unavailability() says
-- what that is: rows that touch or overlap make one stretch, a night shift continues into
-- the next day), or from 00:00 when the barber has no working hours at all, as long as
-- the service fits before the stretch ends. Local times are read in the barber's time zone like local_start() does (a time
-- skipped by a spring-forward change is never offered; a repeated one is its earlier
-- instant). A candidate is offered when, exactly as book_appointment() checks it:
--   * it does not start in the past (now()), and the booking policy allows it (at least the
--     minimum notice after now(), at most the maximum advance: booking.effective_policy;
--     staff may book outside it, the search offers what a client may book);
--   * booking.unavailability() finds the barber working (hours and time off);
--   * its blocked interval, buffers included, overlaps no active appointment's.
-- It reads a snapshot and takes no lock, so a slot may be gone by the time it is booked:
-- book_appointment() remains the judge.
-- Buffers given as NULL are the barber's default for the service
-- (booking.barber_service_buffers, 0 without one), as book_appointment() books them when
-- the caller gives none; for "any barber", each barber's own.
-- p_barber_id NULL: the union of the free starts of every barber of shop p_shop_id (NULL:
-- the default shop) who offers the service; a named barber is looked up in p_shop_id when
-- given (BK003 otherwise), and the service among its shop's;
-- a named barber who does not offer it (booking.offers) is BK013.
-- p_date must be a real date from 0001-01-01 to 9999-12-31 (booking.check_local_date:
-- 'infinity' would otherwise be an endless series); a day in the past answers no slots
-- at once.
-- Locks: none. Raises: BK003 barber_not_found, BK004 service_not_found, BK008 invalid_argument,
-- BK013 service_not_offered.
CREATE OR REPLACE FUNCTION booking.free_slots(
    p_barber_id     bigint,
    p_date          date,
    p_service       text,
    p_buffer_before int DEFAULT 0,
    p_buffer_after  int DEFAULT 0,
    p_step_minutes  int DEFAULT 15,
    p_shop_id       bigint DEFAULT NULL)
RETURNS TABLE (start_time timestamptz, end_time timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Plans built once per session. PostgreSQL otherwise plans again, at every call, each
-- statement whose generic plan it guesses dearer than a custom one (generate_series over
-- a parameter, in booking.unavailability): 40% of a booking's time (docs/BENCHMARKS.md).
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_timezone text;
    v_duration int;
    v_shop_id  bigint;
    v_notice   int := 0;      -- the booking policy's window (booking.effective_policy)
    v_advance  int;
    v_service_id bigint;
    v_before   int := p_buffer_before;   -- the buffers searched with (the barber's defaults
    v_after    int := p_buffer_after;    -- for the service when not given)
BEGIN
    PERFORM booking.check_local_date('p_date', p_date);
    IF p_step_minutes IS NULL OR p_step_minutes NOT BETWEEN 1 AND 1440
       OR p_buffer_before NOT BETWEEN 0 AND 1440 OR p_buffer_after NOT BETWEEN 0 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Buffers must be 0 to 1440 minutes and the grid step 1 to 1440 minutes (got %s before, %s after, step %s).',
                   coalesce(p_buffer_before::text, 'NULL'), coalesce(p_buffer_after::text, 'NULL'),
                   coalesce(p_step_minutes::text, 'NULL')));
    END IF;
    IF p_barber_id IS NULL THEN
        -- "Any barber": a start is free when at least one barber who offers the service is
        -- free then, which is exactly when an "any barber" booking succeeds.
        v_shop_id := coalesce(p_shop_id, 1);
        IF NOT EXISTS (SELECT 1 FROM booking.services s WHERE s.shop_id = v_shop_id AND s.name = p_service) THEN
            PERFORM booking.raise_error('service_not_found', format('No service is named %s%s.', booking.shown(p_service),
                CASE WHEN v_shop_id = 1 THEN '' ELSE ' in shop ' || v_shop_id END));
        END IF;
        RETURN QUERY
            SELECT DISTINCT f.start_time, f.end_time
              FROM unnest(booking.candidate_barbers(v_shop_id, p_service)) AS c(id)
             CROSS JOIN LATERAL booking.free_slots(c.id, p_date, p_service, p_buffer_before, p_buffer_after,
                                                   p_step_minutes, v_shop_id) f
             ORDER BY f.start_time;
        RETURN;
    END IF;
    SELECT b.timezone, b.shop_id INTO v_timezone, v_shop_id FROM booking.barbers b
     WHERE b.id = p_barber_id AND b.shop_id = coalesce(p_shop_id, b.shop_id);
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s%s.', p_barber_id,
            CASE WHEN p_shop_id IS NULL THEN '' ELSE ' in shop ' || p_shop_id END));
    END IF;
    SELECT s.duration_minutes, s.id INTO v_duration, v_service_id
      FROM booking.services s WHERE s.shop_id = v_shop_id AND s.name = p_service;
    SELECT p.min_notice_minutes, p.max_advance_days INTO v_notice, v_advance
      FROM booking.effective_policy(v_shop_id, p_service) p;
    IF v_duration IS NULL THEN
        PERFORM booking.raise_error('service_not_found', format('No service is named %s%s.', booking.shown(p_service),
            CASE WHEN v_shop_id = 1 THEN '' ELSE ' in shop ' || v_shop_id END));
    END IF;
    IF NOT booking.offers(p_barber_id, p_service) THEN
        PERFORM booking.raise_error('service_not_offered',
            format('Barber %s does not offer %s.', p_barber_id, booking.shown(p_service)));
    END IF;
    IF v_before IS NULL OR v_after IS NULL THEN
        SELECT coalesce(v_before, d.buffer_time_before, 0), coalesce(v_after, d.buffer_time_after, 0)
          INTO v_before, v_after
          FROM (SELECT) AS one
          LEFT JOIN booking.barber_service_buffers d ON d.barber_id = p_barber_id AND d.service_id = v_service_id;
    END IF;
    IF p_date < (now() AT TIME ZONE v_timezone)::date - 1 THEN
        RETURN;                               -- every start of that day is in the past
    END IF;

    -- Each candidate's instant and blocked interval are computed once (MATERIALIZED), and
    -- the barber's active appointments that could overlap any candidate are read with one
    -- index scan over the window the candidates span; the overlap test then runs in memory.
    -- Only the starts that overlap nothing are then asked booking.unavailability() (one
    -- query, two when time off is near): on a busy day that is a few calls instead of one
    -- per grid point. The fences (MATERIALIZED) fix that order, which PostgreSQL would
    -- otherwise choose by estimated cost; the plan stays cheap whether it is a custom or a
    -- generic one. At most three days of grid points are ever generated.
    RETURN QUERY
    WITH shifts AS (
        -- the working-hours rows of the day before (a night shift reaching into p_date),
        -- p_date and the day after (a stretch that continues past midnight), as local
        -- [opens, closes); a row that does not close after it opens ends the next day
        SELECT d.day + w.opens_at AS opens,
               d.day + w.closes_at + CASE WHEN w.closes_at <= w.opens_at THEN interval '1 day'
                                          ELSE interval '0' END AS closes
          FROM (VALUES (p_date - 1), (p_date), (p_date + 1)) AS d(day)
          JOIN booking.working_hours w ON w.barber_id = p_barber_id AND w.weekday = extract(isodow FROM d.day)
    ), marked AS (
        -- rows that touch or overlap the ones before them join their stretch
        SELECT sh.opens, sh.closes,
               CASE WHEN sh.opens <= max(sh.closes) OVER (ORDER BY sh.opens, sh.closes
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                    THEN 0 ELSE 1 END AS starts_stretch
          FROM shifts sh
    ), stretches AS (
        -- contiguous working time, (first start, last start) of each stretch
        SELECT min(m.opens) AS first_start, max(m.closes) - make_interval(mins => v_duration) AS last_start
          FROM (SELECT mk.*, sum(mk.starts_stretch) OVER (ORDER BY mk.opens, mk.closes) AS stretch FROM marked mk) m
         GROUP BY m.stretch
        UNION ALL
        -- no working hours at all: any start on that date (it may end after midnight)
        SELECT p_date + time '00:00', p_date + time '23:59:59'
         WHERE NOT EXISTS (SELECT 1 FROM booking.working_hours w WHERE w.barber_id = p_barber_id)
    ), instants AS MATERIALIZED (
        SELECT DISTINCT booking.local_to_utc_or_null(local_start, v_timezone) AS instant
          FROM stretches st
         CROSS JOIN LATERAL generate_series(st.first_start, st.last_start,
                                            make_interval(mins => p_step_minutes)) AS local_start
         WHERE local_start >= p_date AND local_start < p_date + 1
    ), candidates AS MATERIALIZED (
        SELECT i.instant, booking.blocked_interval(i.instant, v_duration, v_before, v_after) AS blocked
          FROM instants i
         WHERE i.instant IS NOT NULL
           AND i.instant >= now() + make_interval(mins => v_notice)          -- the policy's notice
           AND (v_advance IS NULL OR i.instant <= now() + make_interval(days => v_advance))
           AND i.instant < timestamptz '9999-12-31 00:00:00+00'      -- book_appointment's last start
    ), busy AS MATERIALIZED (
        SELECT a.blocked_during
          FROM booking.appointments a
         WHERE a.barber_id = p_barber_id
           AND a.status NOT IN ('cancelled', 'no_show', 'expired')
           AND (a.status <> 'held' OR a.hold_expires_at > now())      -- a hold past its expiry is free
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
