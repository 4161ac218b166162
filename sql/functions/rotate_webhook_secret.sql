-- booking.rotate_webhook_secret(shop, webhook, actor) -> booking.webhook_record, with the new secret
-- Makes a new secret; the current one stays valid for 24 hours (deliveries are signed with
-- both until then: Standard Webhooks' several signatures), so a receiver can switch
-- without missing a message. A second rotation within the 24 hours ends the oldest at once.
-- For the shop's admin. Locks: the subscription's row.
-- Raises: BK012 not_permitted, BK014 shop_not_found, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.rotate_webhook_secret(
    p_shop_id bigint, p_webhook_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS SETOF booking.webhook_record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hook   booking.webhook_subscriptions := booking.assert_webhook_admin(p_shop_id, p_webhook_id, p_actor_user_id);
    v_secret text := booking.new_webhook_secret();
BEGIN
    UPDATE booking.webhook_subscriptions w
       SET previous_secret = w.secret, previous_secret_until = now() + interval '24 hours', secret = v_secret
     WHERE w.id = v_hook.id;
    RETURN QUERY SELECT * FROM booking.webhook_records(v_hook.shop_id, v_hook.id, v_secret);
END
$$;
