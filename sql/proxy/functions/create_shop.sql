-- booking.create_shop(name, IANA time zone, admin user) -> the new booking.shops row
-- (the proxy's; the contract's signature and answer, docs/SCALING.md)
-- The proxy numbers the shop and records it here with booking.create_shop_at() (name, time
-- zone and the one-staff-role rule are checked on the proxy, which holds every shop and
-- every staff role), places it on the partition holding the fewest shops
-- (booking_proxy.shop_directory), and creates it there with the same id and admin. It is
-- one transaction on the proxy: should the partition refuse, nothing is recorded here; a
-- partition that created the shop while the proxy then failed holds an unreachable row
-- nobody can route to (the id is never reused).
-- Locks: the new rows; the directory's partition rows (FOR UPDATE: one placement at a time).
-- Raises: BK008 invalid_argument, BK016 partition_unavailable.
CREATE OR REPLACE FUNCTION booking.create_shop(
    p_name text, p_timezone text DEFAULT 'UTC', p_admin_user_id bigint DEFAULT NULL)
RETURNS booking.shops
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop      booking.shops;
    v_partition int;
    v_state text; v_message text; v_detail text; v_hint text;
BEGIN
    PERFORM booking.check_name('shop', p_name);
    v_shop := booking.create_shop_at(nextval(pg_get_serial_sequence('booking.shops', 'id')),
                                     p_name, p_timezone, p_admin_user_id);
    PERFORM 1 FROM booking_proxy.shop_directory FOR UPDATE;
    SELECT p.partition INTO v_partition
    FROM booking_proxy.partitions() p
    ORDER BY (SELECT count(*) FROM booking_proxy.shop_directory d WHERE d.partition = p.partition), p.partition
    LIMIT 1;
    INSERT INTO booking_proxy.shop_directory (shop_id, partition) VALUES (v_shop.id, v_partition);
    BEGIN
        PERFORM booking_proxy.create_shop_at(v_partition, v_shop.id, v_shop.name, v_shop.timezone, p_admin_user_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
            v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
        PERFORM booking_proxy.raise_remote(v_partition, v_state, v_message, v_detail, v_hint);
    END;
    RETURN v_shop;
END
$$;

-- booking_proxy.create_shop_at(partition, ...): booking.create_shop_at() on that partition.
CREATE OR REPLACE FUNCTION booking_proxy.create_shop_at(
    p_partition int, p_shop_id bigint, p_name text, p_timezone text, p_admin_user_id bigint)
RETURNS SETOF booking.shops
LANGUAGE plproxy AS $$
    CLUSTER 'booking_cluster';
    RUN ON p_partition;
    SELECT * FROM booking.create_shop_at(p_shop_id::bigint, p_name::text, p_timezone::text, p_admin_user_id::bigint);
$$;
