-- booking.take_slot_locks(barber_ids[], intervals[]) -> milliseconds waited
-- Serialises every writer that could overlap one of the given (barber, interval) pairs:
-- the advisory lock (booking.lock_namespace('slot'), booking.slot_lock_key(barber, day))
-- for every UTC day each interval touches (days counted from 1970-01-01; an interval
-- ending exactly at midnight does not touch the next day). Two overlapping intervals of
-- one barber share at least one instant, hence that instant's day, hence one lock: they
-- always serialise, while bookings of one barber on different days do not wait for each
-- other. An interval across UTC midnight takes both days' locks.
-- The wait is bounded by booking.lock_timeout() (booking.take_locks); the time waited is
-- also left in the transaction-local setting booking.last_lock_wait_ms for the service's
-- metrics.
-- Locks: the slot locks, in ascending key order. Raises: 55P03 lock_timeout,
-- BK008 invalid_argument (a bad booking.lock_timeout).
CREATE OR REPLACE FUNCTION booking.take_slot_locks(p_barber_ids bigint[], p_intervals tstzrange[])
RETURNS double precision
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_keys   int[] := '{}';
    v_first  int;
    v_last   int;
    v_waited double precision;
    d        int;
BEGIN
    IF cardinality(p_barber_ids) = 1 AND cardinality(p_intervals) = 1 THEN
        -- The common case, one barber and one interval, without a query.
        IF p_barber_ids[1] IS NOT NULL AND NOT isempty(p_intervals[1])
           AND isfinite(lower(p_intervals[1])) AND isfinite(upper(p_intervals[1])) THEN
            v_first := floor(extract(epoch FROM lower(p_intervals[1])) / 86400)::int;
            v_last  := floor((extract(epoch FROM upper(p_intervals[1])) - 0.000001) / 86400)::int;
            FOR d IN v_first .. v_last LOOP
                v_keys := v_keys || booking.slot_lock_key(p_barber_ids[1], d);
            END LOOP;
        END IF;
    ELSE
        SELECT coalesce(array_agg(booking.slot_lock_key(u.barber_id, d.day)), '{}') INTO v_keys
          FROM unnest(p_barber_ids, p_intervals) AS u(barber_id, during)
         CROSS JOIN LATERAL generate_series(
             floor(extract(epoch FROM lower(u.during)) / 86400)::int,
             floor((extract(epoch FROM upper(u.during)) - 0.000001) / 86400)::int) AS d(day)
         WHERE u.barber_id IS NOT NULL AND NOT isempty(u.during) AND isfinite(lower(u.during)) AND isfinite(upper(u.during));
    END IF;
    v_waited := booking.take_locks(booking.lock_namespace('slot'), v_keys,
        format('The slot lock of barber %s', array_to_string(p_barber_ids, ', ')));
    PERFORM set_config('booking.last_lock_wait_ms', v_waited::text, true);
    RETURN v_waited;
END
$$;
