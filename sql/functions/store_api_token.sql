-- booking.store_api_token(sha-256 hash, user, role, barber, expiry, shop) -> token id
-- Records a token (its hash only). No checks of its own beyond the table's: the caller,
-- booking.create_api_token() (or a cluster proxy's, after booking.grant_staff_role() ran
-- where the shop lives), made them.
-- Locks: the new row. Raises: 23505 for a hash already recorded, 23514 for a bad row.
CREATE OR REPLACE FUNCTION booking.store_api_token(
    p_token_hash bytea, p_user_id bigint, p_role text, p_barber_id bigint,
    p_expires_at timestamptz, p_shop_id bigint)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO booking.api_tokens (token_hash, user_id, role, barber_id, expires_at, shop_id)
    VALUES (p_token_hash, p_user_id, p_role, p_barber_id, p_expires_at, p_shop_id)
    RETURNING id;
END;
