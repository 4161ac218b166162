-- booking.take_locks(namespace, keys, what) -> milliseconds waited
-- Takes the transaction-scoped advisory locks (namespace, key) for every key, each once
-- and in ascending key order, so two callers never deadlock on them. Every lock is first
-- tried without waiting (pg_try_advisory_xact_lock needs neither a setting change nor a
-- subtransaction: the common, uncontended case costs one call per key); from the first
-- lock held by someone else it waits, still in order, bounded by booking.lock_timeout(),
-- inside a BEGIN/EXCEPTION block whose rollback also restores the caller's lock_timeout.
-- p_what says in words what the locks protect, for the error's DETAIL.
-- Locks: the advisory locks asked for. Raises: 55P03 lock_timeout; BK008 invalid_argument
-- (a bad booking.lock_timeout, reported whether or not a lock is contended).
CREATE OR REPLACE FUNCTION booking.take_locks(p_namespace int, p_keys int[], p_what text)
RETURNS double precision
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_keys     int[] := p_keys;
    v_timeout  text;
    v_previous text;
    v_started  timestamptz;
    v_next     int := 0;      -- index of the first key not taken by the fast path (0: all taken)
    i          int;
BEGIN
    IF cardinality(v_keys) > 1 THEN
        SELECT array_agg(DISTINCT k ORDER BY k) INTO v_keys FROM unnest(p_keys) AS k WHERE k IS NOT NULL;
    END IF;
    IF coalesce(cardinality(v_keys), 0) = 0 THEN
        RETURN 0;
    END IF;
    IF coalesce(current_setting('booking.lock_timeout', true), '') <> '' THEN
        v_timeout := booking.lock_timeout();         -- checked now, contended or not
    END IF;

    FOR i IN 1 .. cardinality(v_keys) LOOP
        IF NOT pg_try_advisory_xact_lock(p_namespace, v_keys[i]) THEN
            v_next := i;
            EXIT;
        END IF;
    END LOOP;
    IF v_next = 0 THEN
        RETURN 0;
    END IF;

    v_started := clock_timestamp();
    v_previous := current_setting('lock_timeout');
    v_timeout := coalesce(v_timeout, booking.lock_timeout());
    BEGIN
        PERFORM set_config('lock_timeout', v_timeout, true);
        FOR i IN v_next .. cardinality(v_keys) LOOP
            PERFORM pg_advisory_xact_lock(p_namespace, v_keys[i]);
        END LOOP;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM booking.raise_error('lock_timeout',
            format('%s was held by another transaction for longer than booking.lock_timeout (%s).', p_what, v_timeout),
            'Retry the request; SET booking.lock_timeout to wait longer.');
    END;
    PERFORM set_config('lock_timeout', v_previous, true);
    RETURN extract(epoch FROM clock_timestamp() - v_started) * 1000;
END
$$;
