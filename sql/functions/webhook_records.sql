-- booking.webhook_records(shop, webhook or NULL, secret) -> booking.webhook_record rows
-- The one shape of a subscription as the management functions answer it: its settings,
-- whether and why it is disabled, and its deliveries' state (pending, dead, the oldest
-- pending one's creation, the last success and failure). Never the stored secrets: `secret`
-- is p_secret, given only by create_webhook and rotate_webhook_secret (the one they made).
-- Not granted: callers go through the functions that check who asks.
-- Locks: none. Raises: nothing.
-- (its first form, without p_secret, had callers only in this file's neighbours)
DROP FUNCTION IF EXISTS booking.webhook_records(bigint, bigint);
CREATE OR REPLACE FUNCTION booking.webhook_records(
    p_shop_id bigint, p_webhook_id bigint DEFAULT NULL, p_secret text DEFAULT NULL)
RETURNS SETOF booking.webhook_record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT w.id, w.shop_id, w.url, w.events, p_secret,
           CASE WHEN w.previous_secret_until > now() THEN w.previous_secret_until END,
           w.created_at, w.disabled_at, w.disabled_reason,
           coalesce(d.pending, 0), coalesce(d.dead, 0), d.oldest_pending_at,
           w.last_success_at, w.last_failure_at, w.last_error
      FROM booking.webhook_subscriptions w
      LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE x.status = 'pending') AS pending,
                 count(*) FILTER (WHERE x.status = 'dead') AS dead,
                 min(x.created_at) FILTER (WHERE x.status = 'pending') AS oldest_pending_at
            FROM booking.webhook_deliveries x
           WHERE x.webhook_id = w.id AND x.status <> 'delivered') AS d ON true
     WHERE w.shop_id = p_shop_id AND (p_webhook_id IS NULL OR w.id = p_webhook_id)
     ORDER BY w.id
$$;
