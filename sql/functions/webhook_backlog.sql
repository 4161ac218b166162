-- booking.webhook_backlog() -> (pending, oldest_pending_at, disabled)
-- For the service's metrics (booking_webhook_backlog, ..._age_seconds, ..._disabled):
-- deliveries not delivered yet of enabled subscriptions, the creation of the oldest of
-- them, and the subscriptions disabled. Reads the pending index only.
-- For the service (booking_app). Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.webhook_backlog()
RETURNS TABLE (pending bigint, oldest_pending_at timestamptz, disabled bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*), min(d.created_at),
           (SELECT count(*) FROM booking.webhook_subscriptions w WHERE w.disabled_at IS NOT NULL)
      FROM booking.webhook_deliveries d
      JOIN booking.webhook_subscriptions w ON w.id = d.webhook_id AND w.disabled_at IS NULL
     WHERE d.status = 'pending'
$$;
