-- booking.authenticate_token(sha-256 of a bearer token) -> (user_id, role, barber_id), or
-- no row when the token is unknown, expired or revoked.
-- The service's role cannot read booking.api_tokens; this is its only way in.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.authenticate_token(p_token_hash bytea)
RETURNS TABLE (user_id bigint, role text, barber_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.user_id, t.role, t.barber_id
    FROM booking.api_tokens t
    WHERE t.token_hash = p_token_hash
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
$$;
