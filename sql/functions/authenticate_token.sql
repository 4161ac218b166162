-- booking.authenticate_token(sha-256 of a bearer token) -> (user_id, role, barber_id,
-- valid_until, shop_id), or no row when the token is unknown, expired or revoked, or when it is a
-- staff token whose user no longer holds that role in booking.staff (removing a user's
-- staff role ends their barber and admin tokens at the next request, without revoking each).
-- shop_id: the shop an admin token is limited to (NULL: every shop; the staff role must
-- say the same). valid_until is the token's expiry (NULL: none): a cache of this answer must not outlive
-- it. Any change that could withdraw the answer earlier notifies `booking_tokens`
-- (booking.announce_token_change).
-- The service's role cannot read booking.api_tokens; this is its only way in. The role it
-- returns is what the request may act as (the service sets booking.acting_role to it).
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.authenticate_token(p_token_hash bytea)
RETURNS TABLE (user_id bigint, role text, barber_id bigint, valid_until timestamptz, shop_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT t.user_id, t.role, t.barber_id, t.expires_at, t.shop_id
        FROM booking.api_tokens t
        WHERE t.token_hash = p_token_hash
          AND t.revoked_at IS NULL
          AND (t.expires_at IS NULL OR t.expires_at > now())
          AND (t.role = 'client'
               OR EXISTS (SELECT 1 FROM booking.staff s
                           WHERE s.user_id = t.user_id AND s.role = t.role
                             AND s.barber_id IS NOT DISTINCT FROM t.barber_id
                             AND s.shop_id IS NOT DISTINCT FROM t.shop_id));
END
$$;
