-- booking.send_test_webhook(shop, webhook, actor) -> text: the message id
-- Queues a message of type 'webhook.test' (data: {"webhook_id", "shop_id"}) for the
-- subscription, delivered and retried like any other, even while the subscription is
-- disabled (to check a receiver before enabling it again). For the shop's admin.
-- Locks: the subscription's row.
-- Raises: BK012 not_permitted, BK014 shop_not_found, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.send_test_webhook(p_shop_id bigint, p_webhook_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hook booking.webhook_subscriptions := booking.assert_webhook_admin(p_shop_id, p_webhook_id, p_actor_user_id);
    v_id   text := 'test_' || replace(gen_random_uuid()::text, '-', '');
BEGIN
    INSERT INTO booking.webhook_deliveries (webhook_id, message_id, shop_id, event_type, event_at, data)
    VALUES (v_hook.id, v_id, v_hook.shop_id, 'webhook.test', now(),
            jsonb_build_object('webhook_id', v_hook.id, 'shop_id', v_hook.shop_id));
    RETURN v_id;
END
$$;
