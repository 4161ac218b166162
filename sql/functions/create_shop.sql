-- booking.create_shop(name, IANA time zone, admin user) -> the new booking.shops row
-- A platform operation (`python -m app shop create`): executable by booking_client and the
-- owner, not by the HTTP service. p_admin_user_id, when given, becomes the shop's admin
-- (booking.staff; refused when that user already holds a staff role: one role per user).
-- Locks: the new rows. Raises: BK008 invalid_argument (name, time zone, admin).
CREATE OR REPLACE FUNCTION booking.create_shop(
    p_name text, p_timezone text DEFAULT 'UTC', p_admin_user_id bigint DEFAULT NULL)
RETURNS booking.shops
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name   text;
    v_shop booking.shops;
BEGIN
    v_name := booking.check_name('shop', p_name);
    INSERT INTO booking.shops AS s (name, timezone)
    VALUES (v_name, booking.check_time_zone(coalesce(p_timezone, 'UTC')))
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
