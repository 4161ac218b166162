-- booking.create_shop_at(id, name, IANA time zone, admin user) -> the new booking.shops row
-- booking.create_shop() with the id chosen by the caller: the proxy of a cluster numbers
-- shops for every partition (its directory, docs/SCALING.md) and creates each on the
-- partition it picked. p_admin_user_id, when given, becomes the shop's admin (refused when
-- that user already holds a staff role here: one role per user).
-- Not granted to the service or clients; the proxy's cluster login calls it.
-- Locks: the new rows. Raises: BK008 invalid_argument (name, time zone, id, admin).
CREATE OR REPLACE FUNCTION booking.create_shop_at(
    p_shop_id bigint, p_name text, p_timezone text DEFAULT 'UTC', p_admin_user_id bigint DEFAULT NULL)
RETURNS booking.shops
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name text;
    v_shop booking.shops;
BEGIN
    v_name := booking.check_name('shop', p_name);
    IF p_shop_id IS NULL OR p_shop_id NOT BETWEEN 1 AND 8388607 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A shop id is from 1 to 8388607 (got %s).', coalesce(p_shop_id::text, 'NULL')));
    END IF;
    INSERT INTO booking.shops AS s (id, name, timezone)
    VALUES (p_shop_id, v_name, booking.check_time_zone(coalesce(p_timezone, 'UTC')))
    RETURNING s.* INTO v_shop;
    IF p_admin_user_id IS NOT NULL THEN
        INSERT INTO booking.staff (user_id, role, shop_id) VALUES (p_admin_user_id, 'admin', v_shop.id)
        ON CONFLICT (user_id) DO NOTHING;
        IF NOT FOUND THEN
            PERFORM booking.raise_error('invalid_argument',
                format('User %s already holds a staff role; a user holds one.', p_admin_user_id));
        END IF;
    END IF;
    RETURN v_shop;
END
$$;
