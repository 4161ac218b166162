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
CREATE OR REPLACE FUNCTION booking.take_slot_locks(p_barber_ids bigint[], p_intervals tstzrange[])
RETURNS double precision
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_started  timestamptz := clock_timestamp();
    v_previous text := current_setting('lock_timeout');
    v_waited   double precision;
    k          record;
BEGIN
    BEGIN
        -- Inside the block: if the wait times out, the subtransaction's rollback also
        -- restores the caller's lock_timeout.
        PERFORM set_config('lock_timeout', booking.lock_timeout(), true);
        FOR k IN
            SELECT DISTINCT (u.barber_id % 2147483647)::int AS barber_key, d.day
            FROM unnest(p_barber_ids, p_intervals) AS u(barber_id, during)
            CROSS JOIN LATERAL generate_series(
                floor(extract(epoch FROM lower(u.during)) / 86400)::int,
                floor((extract(epoch FROM upper(u.during)) - 0.000001) / 86400)::int) AS d(day)
            WHERE u.barber_id IS NOT NULL AND u.during IS NOT NULL
            ORDER BY 1, 2
        LOOP
            PERFORM pg_advisory_xact_lock(k.barber_key, k.day);
        END LOOP;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM booking.raise_error('lock_timeout',
            format('Another booking of barber %s held the lock for longer than booking.lock_timeout (%s).',
                   array_to_string(p_barber_ids, ', '), booking.lock_timeout()),
            'Retry the request; SET booking.lock_timeout to wait longer.');
    END;
    PERFORM set_config('lock_timeout', v_previous, true);
    v_waited := extract(epoch FROM clock_timestamp() - v_started) * 1000;
    PERFORM set_config('booking.last_lock_wait_ms', v_waited::text, true);
    RETURN v_waited;
END
$$;
