-- booking.local_to_utc_or_null(local timestamp, time zone) -> timestamptz, or NULL when that
-- wall-clock time does not exist in the zone (skipped by a spring-forward change).
-- An ambiguous time (repeated by a fall-back change) gives the EARLIER instant.
-- Used by local_to_utc() (which raises instead of returning NULL) and by free_slots().
-- Locks: none. Raises: nothing (22023 for an unknown zone name).
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.local_to_utc_or_null(p_local timestamp, p_timezone text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        -- Every offset in force within a day of a first guess; a valid reading uses one of
        -- them, and round-trips to the same wall-clock time.
        SELECT min(c.instant)
        FROM (SELECT p_local AT TIME ZONE p_timezone AS guess) g
        CROSS JOIN LATERAL unnest(ARRAY[g.guess - interval '26 hours', g.guess, g.guess + interval '26 hours']) AS t(at)
        CROSS JOIN LATERAL (SELECT (p_local - ((t.at AT TIME ZONE p_timezone) - (t.at AT TIME ZONE 'UTC')))
                                   AT TIME ZONE 'UTC' AS instant) c
        WHERE c.instant AT TIME ZONE p_timezone = p_local);
END
$$;
