-- booking.assert_webhook_admin(shop, webhook, actor) -> the subscription's row, locked
-- The check of every operation on one subscription: the acting user administers the shop
-- (booking.assert_shop_admin) and the subscription is the shop's. Takes the row FOR UPDATE,
-- so two changes of one subscription (a rotation and a disable) happen one after the other.
-- Locks: the subscription's row (FOR UPDATE). Raises: BK014 shop_not_found, BK012
-- not_permitted, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.assert_webhook_admin(p_shop_id bigint, p_webhook_id bigint, p_actor_user_id bigint)
RETURNS booking.webhook_subscriptions
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
    v_hook booking.webhook_subscriptions;
BEGIN
    SELECT * INTO v_hook FROM booking.webhook_subscriptions w
     WHERE w.id = p_webhook_id AND w.shop_id = v_shop.id
       FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('webhook_not_found',
            format('Shop %s has no webhook %s.', v_shop.id, coalesce(p_webhook_id::text, 'NULL')));
    END IF;
    RETURN v_hook;
END
$$;
