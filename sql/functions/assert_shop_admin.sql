-- booking.assert_shop_admin(shop, actor) -> the shop's row
-- The check of every shop operation (create_barber, create_service, set_working_hours,
-- add_time_off): the shop exists, and the acting user p_actor_user_id is an admin of it
-- (booking.staff: role admin for that shop, or for every shop) while the session acts as
-- an admin (booking.acting_role: the token's role over HTTP). A NULL actor is a trusted
-- internal caller (booking_client, an operator) and is refused when the session runs as
-- the HTTP service's role booking_app, which always acts for a user.
-- Locks: none. Raises: BK014 shop_not_found, BK012 not_permitted.
CREATE OR REPLACE FUNCTION booking.assert_shop_admin(p_shop_id bigint, p_actor_user_id bigint)
RETURNS booking.shops
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops;
BEGIN
    SELECT * INTO v_shop FROM booking.shops s WHERE s.id = p_shop_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('shop_not_found', format('No shop has id %s.', coalesce(p_shop_id::text, 'NULL')));
    END IF;
    IF p_actor_user_id IS NULL THEN
        IF session_user = 'booking_app' OR current_setting('role') = 'booking_app' THEN
            PERFORM booking.raise_error('not_permitted',
                'The HTTP service acts for a user: name the acting user (p_actor_user_id).');
        END IF;
        RETURN v_shop;
    END IF;
    IF booking.acting_role() NOT IN ('admin', 'staff')
       OR NOT EXISTS (SELECT 1 FROM booking.staff st
                       WHERE st.user_id = p_actor_user_id AND st.role = 'admin'
                         AND (st.shop_id IS NULL OR st.shop_id = p_shop_id)) THEN
        PERFORM booking.raise_error('not_permitted',
            format('User %s is not an admin of shop %s.', p_actor_user_id, p_shop_id));
    END IF;
    RETURN v_shop;
END
$$;
