-- booking.create_api_token(sha-256 hash, user, role, barber, expiry, shop) -> token id
-- (the proxy's; the contract's signature and answer, docs/SCALING.md)
-- booking.grant_staff_role() runs on every partition (PL/Proxy RUN ON ALL): on the
-- partition of the role's shop it checks the arguments, the barber and the shop, and
-- records the role; on the others it removes the user's old role (one role per user).
-- Then the proxy keeps its own copy of the role and the token, which is what
-- authenticate_token reads: authenticating never needs a partition. Needs every partition
-- up (an operator command; run it again once they are).
-- Locks: the user's staff rows, the new token row. Raises: BK008 invalid_argument,
--   BK003 barber_not_found, BK014 shop_not_found, BK016 partition_unavailable.
CREATE OR REPLACE FUNCTION booking.create_api_token(
    p_token_hash bytea, p_user_id bigint, p_role text, p_barber_id bigint DEFAULT NULL,
    p_expires_at timestamptz DEFAULT NULL, p_shop_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_home int;
    v_state text; v_message text; v_detail text; v_hint text;
BEGIN
    IF p_role = 'barber' AND p_barber_id IS NOT NULL THEN
        v_home := booking_proxy.partition_of_shop(booking.shop_of_id(p_barber_id));
    ELSIF p_role = 'admin' AND p_shop_id IS NOT NULL THEN
        v_home := booking_proxy.partition_of_shop(p_shop_id);
    END IF;
    BEGIN
        PERFORM booking_proxy.grant_staff_role(p_user_id, p_role, p_barber_id, p_shop_id, v_home);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
            v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
        PERFORM booking_proxy.raise_remote(NULL, v_state, v_message, v_detail, v_hint);
    END;
    IF p_role <> 'client' THEN
        PERFORM booking.store_staff_role(p_user_id, p_role, p_barber_id, p_shop_id);
    END IF;
    RETURN booking.store_api_token(p_token_hash, p_user_id, p_role, p_barber_id, p_expires_at, p_shop_id);
END
$$;

-- booking_proxy.grant_staff_role(...): booking.grant_staff_role() on every partition.
CREATE OR REPLACE FUNCTION booking_proxy.grant_staff_role(
    p_user_id bigint, p_role text, p_barber_id bigint, p_shop_id bigint, p_home_partition int)
RETURNS SETOF int
LANGUAGE plproxy AS $$
    CLUSTER 'booking_cluster';
    RUN ON ALL;
    SELECT 1 FROM booking.grant_staff_role(p_user_id::bigint, p_role::text, p_barber_id::bigint, p_shop_id::bigint,
                                           p_home_partition::int);
$$;
