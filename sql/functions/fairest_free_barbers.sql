-- booking.fairest_free_barbers(barber ids, start, duration, blocked interval, most) -> bigint[]
-- Of the given barbers, those who work for the whole appointment (booking.unavailability)
-- and have no active appointment overlapping the blocked interval, fairest first: fewest
-- active appointments on that local day (in each barber's own zone), then lowest id; at
-- most p_limit of them. The one statement of the "any barber" fair rule, used by
-- choose_barber() before and after it takes the slot locks.
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.fairest_free_barbers(
    p_barber_ids bigint[], p_start timestamptz, p_duration_minutes int, p_during tstzrange, p_limit int)
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
                 WHERE b.id = ANY (p_barber_ids)
                   AND NOT EXISTS (SELECT 1 FROM booking.appointments a
                                    WHERE a.barber_id = b.id AND a.status NOT IN ('cancelled', 'no_show', 'expired')
                                      AND (a.status <> 'held' OR a.hold_expires_at > now())
                                      AND a.blocked_during && p_during)
                   AND booking.unavailability(b.id, b.timezone, p_start, p_duration_minutes) IS NULL
                 ORDER BY load, b.id
                 LIMIT p_limit) f);
END
$$;
