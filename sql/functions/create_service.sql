-- booking.create_service(shop, name, minutes, price in cents, actor) -> the new
-- booking.services row. Names are unique within a shop. p_actor_user_id:
-- booking.assert_shop_admin.
-- Locks: the new row (and the (shop, name) unique index entry).
-- Raises: BK014 shop_not_found, BK012 not_permitted, BK008 invalid_argument (name,
--   duration 1..1440 minutes, price >= 0, a name the shop already has).
CREATE OR REPLACE FUNCTION booking.create_service(
    p_shop_id bigint, p_name text, p_duration_minutes int, p_price_cents int DEFAULT 0,
    p_actor_user_id bigint DEFAULT NULL)
RETURNS booking.services
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name   text;
    v_shop    booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
    v_service booking.services;
BEGIN
    v_name := booking.check_name('service', p_name);
    IF p_duration_minutes IS NULL OR p_duration_minutes NOT BETWEEN 1 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A service lasts 1 to 1440 minutes (got %s).', coalesce(p_duration_minutes::text, 'NULL')));
    END IF;
    IF p_price_cents IS NULL OR p_price_cents < 0 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A price is a whole number of cents, 0 or more (got %s).', coalesce(p_price_cents::text, 'NULL')));
    END IF;
    INSERT INTO booking.services AS s (shop_id, name, duration_minutes, price_cents)
    VALUES (v_shop.id, v_name, p_duration_minutes, p_price_cents)
    ON CONFLICT (shop_id, name) DO NOTHING
    RETURNING s.* INTO v_service;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Shop %s already has a service named %s.', v_shop.id, booking.shown(v_name)));
    END IF;
    RETURN v_service;
END
$$;
