-- booking.purge_old_appointment_events(older than) -> number of events deleted
-- Deletes change-feed events (booking.appointment_events) created more than p_older_than
-- ago, through the index on created_at. At least 1 hour is kept, so that a subscriber
-- reconnecting with Last-Event-ID within that hour misses nothing. An operator's tool (the
-- application roles may not call it: they could purge the feed down to its last hour);
-- the service runs purge_expired_appointment_events(), which keeps what
-- booking.retention_policy says. Safe to run at any time.
-- Locks: row locks on the deleted events. Raises: BK008 invalid_argument (NULL or under 1 hour).
CREATE OR REPLACE FUNCTION booking.purge_old_appointment_events(p_older_than interval DEFAULT interval '7 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deleted bigint;
BEGIN
    IF p_older_than IS NULL OR p_older_than < interval '1 hour' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Change-feed events are kept at least 1 hour (got %s).', coalesce(p_older_than::text, 'NULL')));
    END IF;
    DELETE FROM booking.appointment_events e WHERE e.created_at < now() - p_older_than;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;
