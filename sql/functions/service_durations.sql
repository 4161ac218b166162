-- booking.service_durations(barber, actor, since) -> one row per service of the barber's
--   shop that the barber offers and that has history or a default buffer: the service, its
--   booked length, the barber's default buffers for it (0 without one) and when and from
--   what they were set, then the history app/learning recommends buffers from:
--     late_start_minutes  for each finished appointment (started and finished, by start):
--                         started_at - the later of its booked start and the moment the
--                         barber's previous appointment finished (a start delayed by the
--                         previous appointment running over is that one's, not this one's);
--                         negative: started early
--     overrun_minutes     finished_at - started_at - its booked duration
--     buffer_after        the buffer_time_after it was booked with
--   (the three arrays are parallel), `excluded`: finished appointments left out as data
--   errors (an actual duration under 1 minute or over 4 x the booked one + 60 minutes, a
--   start more than 4 hours from the booked one: a click on the wrong appointment), and for
--   the cost of a buffer: `appointments` (not cancelled, of this service, in the window)
--   and `work_days` (local days on which the barber had any appointment not cancelled);
--   `barber_name`, for the answer's words.
-- The window: appointments starting from p_since (NULL: 180 days ago) until now.
-- For staff: p_actor_user_id as booking.assert_barber_staff (an admin of the barber's shop,
-- or that barber): a barber's durations are not another barber's to read.
-- Locks: none. Raises: BK003 barber_not_found, BK014 shop_not_found, BK012 not_permitted,
--   BK008 invalid_argument (a window that starts in the future or before the year 1).
CREATE OR REPLACE FUNCTION booking.service_durations(
    p_barber_id bigint, p_actor_user_id bigint, p_since timestamptz DEFAULT NULL)
RETURNS TABLE (service text, duration_minutes int, buffer_time_before int, buffer_time_after int,
               default_set_at timestamptz, default_basis jsonb, appointments int, work_days int,
               late_start_minutes double precision[], overrun_minutes double precision[], buffer_after int[],
               excluded int, barber_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop_id  bigint;
    v_timezone text;
    v_name     text;
    v_since    timestamptz := coalesce(p_since, now() - interval '180 days');
BEGIN
    v_shop_id := booking.assert_barber_staff(p_barber_id, p_actor_user_id);
    IF NOT isfinite(v_since) OR v_since > now() OR v_since < timestamptz '0001-01-02 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('The window must start at a real instant in the past (got %s).', v_since));
    END IF;
    SELECT b.timezone, b.name INTO v_timezone, v_name FROM booking.barbers b WHERE b.id = p_barber_id;
    RETURN QUERY
    WITH window_rows AS MATERIALIZED (
        SELECT a.service_name, a.start_time, a.duration_minutes AS booked, a.buffer_time_after,
               a.status, a.started_at, a.finished_at
          FROM booking.appointments a
         WHERE a.barber_id = p_barber_id
           AND a.start_time >= v_since AND a.start_time < now()
           AND a.status NOT IN ('cancelled', 'expired', 'held')
    ), finished AS (
        SELECT w.*,
               -- the barber's previous appointment (by actual start) and when it finished
               lag(w.finished_at) OVER (ORDER BY w.started_at, w.start_time) AS previous_finished
          FROM window_rows w
         WHERE w.finished_at IS NOT NULL
    ), measured AS (
        SELECT f.service_name, f.start_time, f.buffer_time_after,
               (extract(epoch FROM f.started_at
                                   - greatest(f.start_time, least(coalesce(f.previous_finished, '-infinity'), f.started_at)))
                    / 60)::float8 AS late_start,
               (extract(epoch FROM f.finished_at - f.started_at) / 60 - f.booked)::float8 AS overrun,
               (extract(epoch FROM f.finished_at - f.started_at) / 60)::float8 AS actual,
               f.booked,
               (extract(epoch FROM f.started_at - f.start_time) / 60)::float8 AS offset_from_booked
          FROM finished f
    ), judged AS (
        SELECT m.*, (m.actual >= 1 AND m.actual <= 4 * m.booked + 60 AND abs(m.offset_from_booked) <= 240) AS sane
          FROM measured m
    ), history AS (
        SELECT j.service_name,
               array_agg(j.late_start ORDER BY j.start_time) FILTER (WHERE j.sane) AS late_start_minutes,
               array_agg(j.overrun ORDER BY j.start_time) FILTER (WHERE j.sane) AS overrun_minutes,
               array_agg(j.buffer_time_after ORDER BY j.start_time) FILTER (WHERE j.sane) AS buffer_after,
               count(*) FILTER (WHERE NOT j.sane)::int AS excluded
          FROM judged j
         GROUP BY j.service_name
    ), volume AS (
        SELECT w.service_name, count(*)::int AS appointments
          FROM window_rows w
         GROUP BY w.service_name
    ), days AS (
        SELECT count(DISTINCT (w.start_time AT TIME ZONE v_timezone)::date)::int AS work_days FROM window_rows w
    )
    SELECT s.name, s.duration_minutes,
           coalesce(d.buffer_time_before, 0), coalesce(d.buffer_time_after, 0), d.set_at, d.basis,
           coalesce(v.appointments, 0), (SELECT dy.work_days FROM days dy),
           coalesce(h.late_start_minutes, '{}'), coalesce(h.overrun_minutes, '{}'), coalesce(h.buffer_after, '{}'),
           coalesce(h.excluded, 0), v_name
      FROM booking.services s
      LEFT JOIN booking.barber_service_buffers d ON d.barber_id = p_barber_id AND d.service_id = s.id
      LEFT JOIN history h ON h.service_name = s.name
      LEFT JOIN volume v ON v.service_name = s.name
     WHERE s.shop_id = v_shop_id
       AND (h.service_name IS NOT NULL OR d.barber_id IS NOT NULL)
     ORDER BY s.name;
END
$$;
