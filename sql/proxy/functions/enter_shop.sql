-- booking_proxy.enter_shop(shop) -> int: the partition to run a call for the shop on
-- Every routed call of a shop passes here first. It holds a shared advisory lock on the
-- shop until the proxy's transaction ends (the routed call runs inside it), so that
-- `cluster move-shop`, which takes the same lock exclusively, waits for the calls in
-- flight, and calls that arrive during the move wait for it (bounded by
-- booking.lock_timeout, then 55P03) or, once the directory says moving, fail at once with
-- BK015; either way they are retryable, and after the move they reach the new partition.
-- Locks: advisory (booking.lock_namespace('shop'), shop) shared, transaction.
-- Raises: BK015 shop_moving, 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking_proxy.enter_shop(p_shop_id bigint)
RETURNS int
LANGUAGE plpgsql VOLATILE SECURITY DEFINER  -- as booking_owner: the engine's helpers are not granted to callers
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_previous text;
    v_timeout  text;
BEGIN
    IF p_shop_id IS NULL OR p_shop_id NOT BETWEEN 1 AND 8388607 THEN
        RETURN 0;   -- no such shop: partition 0 answers "not found" as one database would
    END IF;
    IF NOT pg_try_advisory_xact_lock_shared(booking.lock_namespace('shop'), p_shop_id::int) THEN
        PERFORM booking_proxy.partition_of_shop(p_shop_id);     -- BK015 if the move has begun
        v_previous := current_setting('lock_timeout');
        v_timeout := booking.lock_timeout();
        BEGIN
            PERFORM set_config('lock_timeout', v_timeout, true);
            PERFORM pg_advisory_xact_lock_shared(booking.lock_namespace('shop'), p_shop_id::int);
        EXCEPTION WHEN lock_not_available THEN
            PERFORM booking.raise_error('lock_timeout',
                format('Shop %s was being moved for longer than booking.lock_timeout (%s).', p_shop_id, v_timeout),
                'Retry the request.');
        END;
        PERFORM set_config('lock_timeout', v_previous, true);
    END IF;
    RETURN booking_proxy.partition_of_shop(p_shop_id);
END
$$;
