-- booking.list_webhooks(shop, actor) -> booking.webhook_record rows, by id
-- The shop's subscriptions with their delivery state (booking.webhook_records), never
-- their secrets. For the shop's admin (booking.assert_shop_admin).
-- Locks: none. Raises: BK012 not_permitted, BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.list_webhooks(p_shop_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS SETOF booking.webhook_record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
BEGIN
    RETURN QUERY SELECT * FROM booking.webhook_records(v_shop.id);
END
$$;
