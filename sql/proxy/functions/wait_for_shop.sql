-- booking_proxy.wait_for_shop(shop) -> void
-- The slow path of booking_proxy.enter_shop(): the shop's lock is held exclusively by a
-- move. Fails at once with BK015 when the directory already says moving; otherwise waits
-- for the shared lock, bounded by booking.lock_timeout (then 55P03).
-- Locks: advisory (booking.lock_namespace('shop'), shop) shared, transaction, waiting.
-- Raises: BK015 shop_moving, 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking_proxy.wait_for_shop(p_shop_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER  -- as booking_owner: the engine's helpers are not granted to callers
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_previous text;
    v_timeout  text;
BEGIN
    PERFORM booking_proxy.partition_of_shop(p_shop_id);
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
END
$$;
