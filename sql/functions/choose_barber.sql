-- booking.choose_barber(shop, service, duration, start, buffers) -> the barber an "any
-- barber of this shop" booking gets.
-- Fair rule (booking.fairest_free_barbers): among the barbers who offer the service
-- (candidate_barbers), work then (unavailability) and are free for the whole blocked
-- interval, the one with the fewest active appointments on that local day; ties go to the
-- lowest barber id.
-- Atomic, with a bounded number of locks: it first ranks the candidates on a snapshot and
-- keeps the 16 fairest free ones; with application checks on it takes the slot locks of
-- those (one take_slot_locks call, ascending key order: no deadlock with any other
-- booking), then ranks them again in a new statement, which under READ COMMITTED sees
-- everything committed while it waited, and picks the fairest still free. Concurrent "any
-- barber" bookings of one time therefore queue, and N free barbers (N <= 16) take exactly
-- N of them; the others get 23P01. When the batch was cut at 16 and all 16 were taken
-- while it waited (a rush wider than the batch), it raises 40001, whose retry ranks afresh. A shop of 1,000 barbers thus costs at most
-- 16 barbers' locks per call, not 1,000 (which exhausted the lock table: 53200).
-- Buffers given as NULL are each candidate's default for the service
-- (booking.barber_service_buffers, 0 without one): a candidate is free, and is locked, for
-- the blocked interval it would get.
-- The caller inserts before its transaction ends.
-- Locks: advisory slot locks of at most 16 barbers. Raises: BK006 barber_unavailable
-- (nobody offers the service or works then), 23P01 slot_conflict (everyone who works then
-- is booked), 55P03 lock_timeout, 40001 serialization_failure (retry).
CREATE OR REPLACE FUNCTION booking.choose_barber(
    p_shop_id bigint, p_service text, p_duration_minutes int, p_start timestamptz, p_buffer_before int, p_buffer_after int)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_batch CONSTANT int := 16;
    v_candidates bigint[] := booking.candidate_barbers(p_shop_id, p_service);
    -- (the interval the refusals name: the buffers given, 0 for those not given)
    v_during     tstzrange := booking.blocked_interval(p_start, p_duration_minutes,
                                                       coalesce(p_buffer_before, 0), coalesce(p_buffer_after, 0));
    v_batch      bigint[];
    v_choice     bigint;
    v_working    bigint;
BEGIN
    IF cardinality(v_candidates) = 0 THEN
        PERFORM booking.raise_error('barber_unavailable', format('No barber offers %s.', booking.shown(p_service)));
    END IF;
    v_batch := booking.fairest_free_barbers(v_candidates, p_start, p_duration_minutes, p_service,
                                            p_buffer_before, p_buffer_after, c_batch);
    IF cardinality(v_batch) = 0 THEN
        SELECT count(*) INTO v_working FROM booking.barbers b
         WHERE b.id = ANY (v_candidates) AND booking.unavailability(b.id, b.timezone, p_start, p_duration_minutes) IS NULL;
        IF v_working = 0 THEN
            PERFORM booking.raise_error('barber_unavailable',
                format('None of the %s barbers who offer %s works from %s to %s.', cardinality(v_candidates),
                       booking.shown(p_service), booking.rfc3339(p_start),
                       booking.rfc3339(p_start + make_interval(mins => p_duration_minutes))));
        END IF;
        PERFORM booking.raise_error('slot_conflict',
            format('All %s barbers who offer %s and work then are booked from %s to %s.', v_working,
                   booking.shown(p_service), booking.rfc3339(lower(v_during)), booking.rfc3339(upper(v_during))));
    END IF;
    IF NOT booking.application_checks_enabled() THEN
        RETURN v_batch[1];
    END IF;
    -- Each candidate's own blocked interval (its default buffers when none are given).
    PERFORM booking.take_slot_locks(v_batch, ARRAY(
        SELECT booking.blocked_interval(p_start, p_duration_minutes,
                                        coalesce(p_buffer_before, d.buffer_time_before, 0),
                                        coalesce(p_buffer_after, d.buffer_time_after, 0))
          FROM unnest(v_batch) WITH ORDINALITY AS c(id, n)
          JOIN booking.barbers b ON b.id = c.id
          LEFT JOIN booking.services s ON s.shop_id = b.shop_id AND s.name = p_service
          LEFT JOIN booking.barber_service_buffers d ON d.barber_id = c.id AND d.service_id = s.id
         ORDER BY c.n));
    -- A new statement: under READ COMMITTED it sees everything committed while we waited.
    v_choice := (booking.fairest_free_barbers(v_batch, p_start, p_duration_minutes, p_service,
                                              p_buffer_before, p_buffer_after, 1))[1];
    IF v_choice IS NULL AND cardinality(v_batch) < c_batch THEN
        -- The batch held every barber who was free: all are booked now.
        PERFORM booking.raise_error('slot_conflict',
            format('All barbers who offer %s and work then are booked from %s to %s.',
                   booking.shown(p_service), booking.rfc3339(lower(v_during)), booking.rfc3339(upper(v_during))));
    ELSIF v_choice IS NULL THEN
        PERFORM booking.raise_error('serialization_failure',
            format('The %s fairest free barbers for %s to %s were all booked while this booking waited for them.',
                   cardinality(v_batch), booking.rfc3339(lower(v_during)), booking.rfc3339(upper(v_during))),
            'Retry: the next attempt ranks the barbers afresh.');
    END IF;
    RETURN v_choice;
END
$$;
