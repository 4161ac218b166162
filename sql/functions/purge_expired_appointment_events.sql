-- booking.purge_expired_appointment_events() -> number of events deleted
-- Deletes change-feed events older than the operator's retention
-- (booking.retention_policy.change_feed, 7 days unless changed, never under 1 hour), through
-- the index on created_at. The service runs it periodically with the idempotency purge; a
-- caller can delete only what the policy already lets go. The operator changes the policy:
--   UPDATE booking.retention_policy SET change_feed = interval '3 days';
-- Locks: row locks on the deleted events. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.purge_expired_appointment_events()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deleted bigint;
BEGIN
    DELETE FROM booking.appointment_events e
     WHERE e.created_at < now() - coalesce((SELECT r.change_feed FROM booking.retention_policy r), interval '7 days');
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;
