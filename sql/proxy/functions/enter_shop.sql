-- booking_proxy.enter_shop(shop) -> int: the partition to run a call for the shop on
-- Every routed call of a shop passes here first. It holds a shared advisory lock on the
-- shop until the proxy's transaction ends (the routed call runs inside it), so that
-- `cluster move-shop`, which takes the same lock exclusively, waits for the calls in
-- flight, and calls that arrive during the move wait for it (booking_proxy.wait_for_shop:
-- bounded by booking.lock_timeout, then 55P03) or, once the directory says moving, fail
-- at once with BK015; either way they are retryable, and after the move they reach the
-- new partition. An unknown shop (or none) goes to partition 0, whose own function then
-- answers "not found" exactly as one database would.
-- On every routed call: runs as its caller, without a SET clause, and names everything
-- with its schema (the lock's namespace is booking.lock_namespace('shop'), spelled out):
-- measured by the bench's partitioned scenario, the SET clauses and SECURITY DEFINER
-- helpers of a first version cost about 80 us of the proxy's time per call.
-- Locks: advisory (booking.lock_namespace('shop') = 1112211462, shop) shared, transaction.
-- Raises: BK015 shop_moving, 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking_proxy.enter_shop(p_shop_id bigint)
RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_partition int;
    v_moving    boolean;
BEGIN
    IF p_shop_id IS NULL OR p_shop_id < 1 OR p_shop_id > 8388607 THEN
        RETURN 0;
    END IF;
    IF NOT pg_catalog.pg_try_advisory_xact_lock_shared(1112211462, p_shop_id::int) THEN
        PERFORM booking_proxy.wait_for_shop(p_shop_id);      -- only a move holds it exclusively
    END IF;
    SELECT d.partition, d.moving INTO v_partition, v_moving
    FROM booking_proxy.shop_directory d WHERE d.shop_id = p_shop_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF v_moving THEN
        PERFORM booking_proxy.partition_of_shop(p_shop_id);  -- raises BK015
    END IF;
    RETURN v_partition;
END
$$;
