-- booking.delete_webhook(shop, webhook, actor) -> boolean (true)
-- Removes the subscription and its deliveries (a delivery in flight may still arrive once).
-- For the shop's admin. Locks: the subscription's row.
-- Raises: BK012 not_permitted, BK014 shop_not_found, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.delete_webhook(p_shop_id bigint, p_webhook_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hook booking.webhook_subscriptions := booking.assert_webhook_admin(p_shop_id, p_webhook_id, p_actor_user_id);
BEGIN
    DELETE FROM booking.webhook_subscriptions w WHERE w.id = v_hook.id;
    RETURN true;
END
$$;
