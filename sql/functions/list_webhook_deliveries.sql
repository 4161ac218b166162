-- booking.list_webhook_deliveries(shop, webhook, status, before, limit, actor) -> deliveries, newest first
-- A subscription's deliveries (status 'pending', 'delivered', 'dead', or all for NULL),
-- created before p_before (a page's last created_at; NULL: from the newest), at most
-- p_limit (1 to 500): what the admin reads to see why a subscription fails.
-- For the shop's admin. Locks: none.
-- Raises: BK008 invalid_argument, BK012 not_permitted, BK014 shop_not_found, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.list_webhook_deliveries(
    p_shop_id bigint, p_webhook_id bigint, p_status text DEFAULT NULL, p_before timestamptz DEFAULT NULL,
    p_limit int DEFAULT 100, p_actor_user_id bigint DEFAULT NULL)
RETURNS TABLE (message_id text, event_type text, appointment_id bigint, version int, status text, attempts int,
               created_at timestamptz, next_attempt_at timestamptz, last_attempt_at timestamptz,
               last_status_code int, last_error text, delivered_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM booking.webhook_subscriptions w WHERE w.id = p_webhook_id AND w.shop_id = v_shop.id) THEN
        PERFORM booking.raise_error('webhook_not_found',
            format('Shop %s has no webhook %s.', v_shop.id, coalesce(p_webhook_id::text, 'NULL')));
    END IF;
    IF p_status IS NOT NULL AND p_status NOT IN ('pending', 'delivered', 'dead') THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A delivery status is pending, delivered or dead (got %s).', quote_literal(left(p_status, 50))));
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A page holds 1 to 500 deliveries (got %s).', coalesce(p_limit::text, 'NULL')));
    END IF;
    RETURN QUERY
    SELECT d.message_id, d.event_type, d.appointment_id, d.version, d.status, d.attempts, d.created_at,
           CASE WHEN d.status = 'pending' THEN d.next_attempt_at END, d.last_attempt_at,
           d.last_status_code, d.last_error, d.delivered_at
      FROM booking.webhook_deliveries d
     WHERE d.webhook_id = p_webhook_id AND (p_status IS NULL OR d.status = p_status)
       AND (p_before IS NULL OR d.created_at < p_before)
     ORDER BY d.created_at DESC, d.message_id DESC
     LIMIT p_limit;
END
$$;
