-- booking.set_hold_minutes(shop, minutes, actor) -> the shop's row
-- How long a hold (booking.hold_slot) lasts in the shop, from 1 to 1440 minutes (5 unless
-- changed). Holds already taken keep their expiry. For the shop's admin, named as the acting
-- user, or a trusted internal caller (booking.assert_shop_admin).
-- Locks: the shop's row. Raises: BK008 invalid_argument, BK012 not_permitted, BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.set_hold_minutes(p_shop_id bigint, p_minutes int, p_actor_user_id bigint DEFAULT NULL)
RETURNS booking.shops
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
BEGIN
    IF p_minutes IS NULL OR p_minutes NOT BETWEEN 1 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A hold lasts from 1 to 1440 minutes (got %s).', coalesce(p_minutes::text, 'NULL')));
    END IF;
    UPDATE booking.shops s SET hold_minutes = p_minutes WHERE s.id = v_shop.id RETURNING s.* INTO v_shop;
    RETURN v_shop;
END
$$;
