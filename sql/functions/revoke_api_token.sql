-- booking.revoke_api_token(sha-256 hash) -> true when a live token was revoked
-- For operators (`python -m app token revoke`). Locks: the token's row. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.revoke_api_token(p_token_hash bytea)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE booking.api_tokens t SET revoked_at = now()
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL;
    RETURN FOUND;
END
$$;
