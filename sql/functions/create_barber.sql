-- booking.create_barber(shop, name, IANA time zone, actor) -> the new booking.barbers row
-- p_timezone NULL: the shop's. p_actor_user_id: booking.assert_shop_admin.
-- Locks: the new row. Raises: BK014 shop_not_found, BK012 not_permitted,
--   BK008 invalid_argument (name, time zone).
CREATE OR REPLACE FUNCTION booking.create_barber(
    p_shop_id bigint, p_name text, p_timezone text DEFAULT NULL, p_actor_user_id bigint DEFAULT NULL)
RETURNS booking.barbers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name   text;
    v_shop   booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
    v_barber booking.barbers;
BEGIN
    v_name := booking.check_name('barber', p_name);
    INSERT INTO booking.barbers AS b (shop_id, name, timezone)
    VALUES (v_shop.id, v_name, booking.check_time_zone(coalesce(p_timezone, v_shop.timezone)))
    RETURNING b.* INTO v_barber;
    RETURN v_barber;
END
$$;
