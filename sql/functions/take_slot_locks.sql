-- booking.take_slot_locks(barber_ids[], intervals[]) -> milliseconds waited
-- Serialises every writer that could overlap one of the given (barber, interval) pairs.
-- Locks: transaction-scoped advisory locks (barber_id, UTC day number) for every UTC day
-- each interval touches, taken in ascending key order so two callers never deadlock.
-- Two overlapping intervals of one barber share at least one instant, hence the day of
-- that instant, hence one lock: overlapping bookings always serialise, while bookings of
-- one barber on different days do not wait for each other.
-- The wait is bounded by booking.lock_timeout(); the time waited is also left in the
-- transaction-local setting booking.last_lock_wait_ms for the service's metrics.
-- Raises: 55P03 lock_timeout when a lock is not acquired in time.
--
-- Performance (it runs in every booking): each lock is first tried without waiting
-- (pg_try_advisory_xact_lock), which needs neither the lock_timeout setting nor a
-- subtransaction; only from the first lock that is held by someone else does it wait,
-- still in ascending key order, under booking.lock_timeout inside a BEGIN/EXCEPTION
-- block. The common case of one barber and one interval computes its keys without a query.
CREATE OR REPLACE FUNCTION booking.take_slot_locks(p_barber_ids bigint[], p_intervals tstzrange[])
RETURNS double precision
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_started  timestamptz;
    v_previous text;
    v_waited   double precision := 0;
    v_barbers  int[] := '{}';
    v_days     int[] := '{}';
    v_first    int;
    v_last     int;
    i          int;
    d          int;
    v_next     int := 0;      -- index of the first key not taken by the fast path (0: all taken)
BEGIN
    IF cardinality(p_barber_ids) = 1 AND cardinality(p_intervals) = 1 THEN
        IF p_barber_ids[1] IS NOT NULL AND p_intervals[1] IS NOT NULL THEN
            v_first := floor(extract(epoch FROM lower(p_intervals[1])) / 86400)::int;
            v_last  := floor((extract(epoch FROM upper(p_intervals[1])) - 0.000001) / 86400)::int;
            IF v_first IS NOT NULL AND v_last IS NOT NULL THEN   -- empty or unbounded: no day
                FOR d IN v_first .. v_last LOOP
                    v_barbers := v_barbers || (p_barber_ids[1] % 2147483647)::int;
                    v_days := v_days || d;
                END LOOP;
            END IF;
        END IF;
    ELSE
        SELECT array_agg(k.barber_key ORDER BY k.barber_key, k.day), array_agg(k.day ORDER BY k.barber_key, k.day)
          INTO v_barbers, v_days
          FROM (SELECT DISTINCT (u.barber_id % 2147483647)::int AS barber_key, d.day
                  FROM unnest(p_barber_ids, p_intervals) AS u(barber_id, during)
                 CROSS JOIN LATERAL generate_series(
                     floor(extract(epoch FROM lower(u.during)) / 86400)::int,
                     floor((extract(epoch FROM upper(u.during)) - 0.000001) / 86400)::int) AS d(day)
                 WHERE u.barber_id IS NOT NULL AND u.during IS NOT NULL) k;
    END IF;

    -- A session that set booking.lock_timeout has its value checked now, whether or not a
    -- lock turns out to be contended: a value PostgreSQL refuses for lock_timeout is
    -- reported (22023) every time, not only under load. Two set_config calls, no
    -- subtransaction (the service sets booking.lock_timeout on every call).
    IF coalesce(current_setting('booking.lock_timeout', true), '') <> '' AND cardinality(v_days) > 0 THEN
        v_previous := current_setting('lock_timeout');
        PERFORM set_config('lock_timeout', booking.lock_timeout(), true);
        PERFORM set_config('lock_timeout', v_previous, true);
    END IF;

    -- Fast path: take every free lock at once, in order, without waiting.
    FOR i IN 1 .. coalesce(cardinality(v_days), 0) LOOP
        IF NOT pg_try_advisory_xact_lock(v_barbers[i], v_days[i]) THEN
            v_next := i;
            EXIT;
        END IF;
    END LOOP;

    IF v_next > 0 THEN
        -- Slow path: wait for the rest, in the same ascending order, bounded in time.
        v_started := clock_timestamp();
        v_previous := current_setting('lock_timeout');
        BEGIN
            -- Inside the block: if the wait times out, the subtransaction's rollback also
            -- restores the caller's lock_timeout.
            PERFORM set_config('lock_timeout', booking.lock_timeout(), true);
            FOR i IN v_next .. cardinality(v_days) LOOP
                PERFORM pg_advisory_xact_lock(v_barbers[i], v_days[i]);
            END LOOP;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM booking.raise_error('lock_timeout',
                format('Another booking of barber %s held the lock for longer than booking.lock_timeout (%s).',
                       array_to_string(p_barber_ids, ', '), booking.lock_timeout()),
                'Retry the request; SET booking.lock_timeout to wait longer.');
        END;
        PERFORM set_config('lock_timeout', v_previous, true);
        v_waited := extract(epoch FROM clock_timestamp() - v_started) * 1000;
    END IF;
    PERFORM set_config('booking.last_lock_wait_ms', v_waited::text, true);
    RETURN v_waited;
END
$$;
