-- booking_proxy.partition_of_shop(shop) -> int: the partition that holds the shop
-- Read from booking_proxy.shop_directory. An unknown shop (or NULL) goes to partition 0,
-- whose own function then answers exactly as one database would (barber_not_found,
-- shop_not_found, ...). A shop being moved raises BK015 shop_moving (retryable).
-- Locks: none. Raises: BK015 shop_moving.
CREATE OR REPLACE FUNCTION booking_proxy.partition_of_shop(p_shop_id bigint)
RETURNS int
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row booking_proxy.shop_directory;
BEGIN
    SELECT * INTO v_row FROM booking_proxy.shop_directory d WHERE d.shop_id = p_shop_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF v_row.moving THEN
        PERFORM booking.raise_error('shop_moving',
            format('Shop %s is moving from partition %s; retry in a moment.', p_shop_id, v_row.partition));
    END IF;
    RETURN v_row.partition;
END
$$;
