-- booking.create_api_token(sha-256 hash, user, role, barber, expiry, shop) -> token id
-- Records a new bearer token (only its hash) and, for the barber and admin roles, the
-- user's staff role that update_appointment() and get_appointment() consult. A client
-- token may be issued to a user who is also staff: it acts as a client
-- (booking.acting_role); a user holds at most one staff role (booking.staff). An admin
-- token with p_shop_id is an admin of that shop only (its staff role says the same: the
-- latest token made decides the user's role); without, of every shop.
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
DECLARE
    v_id bigint;
BEGIN
    IF p_role IS NULL OR p_role NOT IN ('client', 'barber', 'admin') THEN
        PERFORM booking.raise_error('invalid_argument', 'The role must be client, barber or admin.');
    END IF;
    IF (p_role = 'barber') <> (p_barber_id IS NOT NULL) THEN
        PERFORM booking.raise_error('invalid_argument', 'A barber token needs a barber id, and only a barber token has one.');
    END IF;
    IF p_shop_id IS NOT NULL AND p_role <> 'admin' THEN
        PERFORM booking.raise_error('invalid_argument',
            'Only an admin token is limited to a shop (a barber token is its barber''s shop''s).');
    END IF;
    IF p_shop_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM booking.shops s WHERE s.id = p_shop_id) THEN
        PERFORM booking.raise_error('shop_not_found', format('No shop has id %s.', p_shop_id));
    END IF;
    IF p_barber_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM booking.barbers b WHERE b.id = p_barber_id) THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', p_barber_id));
    END IF;
    IF p_role <> 'client' THEN
        INSERT INTO booking.staff AS s (user_id, role, barber_id, shop_id)
        VALUES (p_user_id, p_role, p_barber_id, p_shop_id)
        ON CONFLICT (user_id) DO UPDATE
            SET role = EXCLUDED.role, barber_id = EXCLUDED.barber_id, shop_id = EXCLUDED.shop_id;
    END IF;
    INSERT INTO booking.api_tokens (token_hash, user_id, role, barber_id, expires_at, shop_id)
    VALUES (p_token_hash, p_user_id, p_role, p_barber_id, p_expires_at, p_shop_id)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
