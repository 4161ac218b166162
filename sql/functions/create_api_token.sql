-- booking.create_api_token(sha-256 hash, user, role, barber, expiry, shop) -> token id
-- Records a new bearer token (only its hash) and, for the barber and admin roles, the
-- user's staff role that update_appointment() and get_appointment() consult. A client
-- token may be issued to a user who is also staff: it acts as a client
-- (booking.acting_role); a user holds at most one staff role (booking.staff). An admin
-- token with p_shop_id is an admin of that shop only (its staff role says the same: the
-- latest token made decides the user's role); without, of every shop.
-- The work: booking.grant_staff_role(), then booking.store_api_token().
-- For operators (`python -m app token create`); not granted to the service or clients.
-- Locks: row locks on the rows written. Raises: BK008 invalid_argument, BK003 barber_not_found,
--   BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.create_api_token(
    p_token_hash bytea, p_user_id bigint, p_role text, p_barber_id bigint DEFAULT NULL,
    p_expires_at timestamptz DEFAULT NULL, p_shop_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM booking.grant_staff_role(p_user_id, p_role, p_barber_id, p_shop_id);
    RETURN booking.store_api_token(p_token_hash, p_user_id, p_role, p_barber_id, p_expires_at, p_shop_id);
END
$$;
