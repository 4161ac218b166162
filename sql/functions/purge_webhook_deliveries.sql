-- booking.purge_webhook_deliveries() -> number of deliveries deleted
-- Deletes delivered deliveries (their record only: the receiver has them) created more
-- than 7 days ago. Pending and dead ones stay until delivered, replayed or their
-- subscription is deleted. Run with the service's other purges (PURGE_INTERVAL).
-- For the service (booking_app). Locks: the deleted rows. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.purge_webhook_deliveries()
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM booking.webhook_deliveries d
         WHERE d.status = 'delivered' AND d.created_at < now() - interval '7 days'
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
