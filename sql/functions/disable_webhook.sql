-- booking.disable_webhook(shop, webhook, actor) -> booking.webhook_record
-- Stops the subscription's deliveries: none is attempted and none is queued while it is
-- disabled (booking.enable_webhook replays what it missed). Disabling a disabled one keeps
-- its first reason. For the shop's admin. Locks: the subscription's row.
-- Raises: BK012 not_permitted, BK014 shop_not_found, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.disable_webhook(p_shop_id bigint, p_webhook_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS SETOF booking.webhook_record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hook booking.webhook_subscriptions := booking.assert_webhook_admin(p_shop_id, p_webhook_id, p_actor_user_id);
BEGIN
    UPDATE booking.webhook_subscriptions w
       SET disabled_at = now(),
           disabled_reason = format('disabled by %s', coalesce('user ' || p_actor_user_id, 'an internal caller'))
     WHERE w.id = v_hook.id AND w.disabled_at IS NULL;
    RETURN QUERY SELECT * FROM booking.webhook_records(v_hook.shop_id, v_hook.id);
END
$$;
