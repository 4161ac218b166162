-- booking.booking_history(shop, since) -> the shop's history in the trace format of
--   docs/LEARNING.md, for `python -m app learn export|train` (an operator's command: granted
--   to no application role). One row per appointment (kind 'appointment'; live and expired
--   holds left out) and per refused attempt (kind 'attempt', booking.booking_attempts):
--     shop_id, barber_id (NULL: an "any barber" attempt), timezone (the barber's, or the
--     shop's), service, duration_minutes, buffer_time_before, buffer_time_after,
--     start_time, created_at (booked, or attempted), ended_at (when it stopped blocking:
--     cancelled or no-show, its last change; NULL otherwise), status, started_at, finished_at.
-- Appointments starting or made from p_since (NULL: 365 days ago), by created_at.
-- Locks: none. Raises: BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.booking_history(p_shop_id bigint, p_since timestamptz DEFAULT NULL)
RETURNS TABLE (kind text, shop_id bigint, barber_id bigint, timezone text, service text, duration_minutes int,
               buffer_time_before int, buffer_time_after int, start_time timestamptz, created_at timestamptz,
               ended_at timestamptz, status text, started_at timestamptz, finished_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop  booking.shops;
    v_since timestamptz := coalesce(p_since, now() - interval '365 days');
BEGIN
    SELECT * INTO v_shop FROM booking.shops s WHERE s.id = coalesce(p_shop_id, 1);
    IF NOT FOUND THEN
        PERFORM booking.raise_error('shop_not_found', format('No shop has id %s.', coalesce(p_shop_id::text, 'NULL')));
    END IF;
    RETURN QUERY
    SELECT x.* FROM (
        SELECT 'appointment'::text, a.shop_id, a.barber_id, b.timezone, a.service_name, a.duration_minutes,
               a.buffer_time_before, a.buffer_time_after, a.start_time, a.created_at,
               CASE WHEN a.status IN ('cancelled', 'no_show') THEN a.updated_at END, a.status, a.started_at,
               a.finished_at
          FROM booking.appointments a JOIN booking.barbers b ON b.id = a.barber_id
         WHERE a.shop_id = v_shop.id AND a.status NOT IN ('held', 'expired')
           AND (a.start_time >= v_since OR a.created_at >= v_since)
        UNION ALL
        SELECT 'attempt', t.shop_id, t.barber_id, coalesce(b.timezone, v_shop.timezone), t.service_name,
               s.duration_minutes, NULL::int, NULL::int, t.start_time, t.attempted_at, NULL::timestamptz, NULL::text,
               NULL::timestamptz, NULL::timestamptz
          FROM booking.booking_attempts t
          LEFT JOIN booking.barbers b ON b.id = t.barber_id
          LEFT JOIN booking.services s ON s.shop_id = t.shop_id AND s.name = t.service_name
         WHERE t.shop_id = v_shop.id AND t.attempted_at >= v_since
    ) AS x
    ORDER BY x.created_at;
END
$$;
