-- booking.fairest_free_barbers(barber ids, start, duration, service, buffers, most) -> bigint[]
-- Of the given barbers, those who work for the whole appointment (booking.unavailability)
-- and have no active appointment overlapping its blocked interval, fairest first: fewest
-- active appointments on that local day (in each barber's own zone), then lowest id; at
-- most p_limit of them. Each barber's blocked interval has the buffers given, or, for a
-- buffer given as NULL, that barber's default for the service (booking.barber_service_buffers;
-- 0 without one), as booking.place_appointment then books it. The one statement of the "any
-- barber" fair rule, used by choose_barber() before and after it takes the slot locks.
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.fairest_free_barbers(
    p_barber_ids bigint[], p_start timestamptz, p_duration_minutes int, p_service text,
    p_buffer_before int, p_buffer_after int, p_limit int)
RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(f.id ORDER BY f.load, f.id), '{}')
          FROM (SELECT b.id,
                       (SELECT count(*) FROM booking.appointments a
                         WHERE a.barber_id = b.id AND a.status NOT IN ('cancelled', 'no_show', 'expired')
                           AND (a.status <> 'held' OR a.hold_expires_at > now())
                           AND a.start_time >= ((p_start AT TIME ZONE b.timezone)::date::timestamp AT TIME ZONE b.timezone)
                           AND a.start_time < (((p_start AT TIME ZONE b.timezone)::date + 1)::timestamp AT TIME ZONE b.timezone)
                       ) AS load
                  FROM booking.barbers b
                  LEFT JOIN booking.services s ON s.shop_id = b.shop_id AND s.name = p_service
                  LEFT JOIN booking.barber_service_buffers d ON d.barber_id = b.id AND d.service_id = s.id
                 CROSS JOIN LATERAL (
                       SELECT booking.blocked_interval(p_start, p_duration_minutes,
                                                       coalesce(p_buffer_before, d.buffer_time_before, 0),
                                                       coalesce(p_buffer_after, d.buffer_time_after, 0)) AS during) i
                 WHERE b.id = ANY (p_barber_ids)
                   AND NOT EXISTS (SELECT 1 FROM booking.appointments a
                                    WHERE a.barber_id = b.id AND a.status NOT IN ('cancelled', 'no_show', 'expired')
                                      AND (a.status <> 'held' OR a.hold_expires_at > now())
                                      AND a.blocked_during && i.during)
                   AND booking.unavailability(b.id, b.timezone, p_start, p_duration_minutes) IS NULL
                 ORDER BY load, b.id
                 LIMIT p_limit) f);
END
$$;
