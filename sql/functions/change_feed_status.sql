-- booking.change_feed_status() -> one row: how far the change feed is behind
--   mode             'logical' or 'outbox'
--   slot_name        the replication slot read (mode logical, or until a switch drained it)
--   slot_status      the slot's wal_status ('reserved', 'extended', 'unreserved', 'lost')
--                    or 'missing'; NULL without a slot
--   lag_bytes        WAL written since the last position the relay confirmed (the WAL the
--                    slot keeps); NULL without a slot or on a standby
--   pending_changes  outbox rows not relayed yet (counted up to 100,000)
--   oldest_pending   when the oldest of them was written
--   relayed_at       commit time of the last change relayed from the slot
--   latest_event_id  the newest event id
-- For /health and the metrics. Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.change_feed_status()
RETURNS TABLE (mode text, slot_name text, slot_status text, lag_bytes numeric, pending_changes bigint,
               oldest_pending timestamptz, relayed_at timestamptz, latest_event_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.mode, f.slot_name,
           CASE WHEN f.slot_name IS NULL THEN NULL ELSE coalesce(s.wal_status, 'missing') END,
           CASE WHEN NOT pg_is_in_recovery() AND s.confirmed_flush_lsn IS NOT NULL
                THEN pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn) END,
           (SELECT count(*) FROM (SELECT 1 FROM booking.appointment_changes LIMIT 100000) AS p),
           (SELECT min(c.created_at) FROM booking.appointment_changes c),
           f.relayed_at,
           coalesce((SELECT max(e.id) FROM booking.appointment_events e), 0)
      FROM booking.change_feed f
      LEFT JOIN pg_replication_slots s ON s.slot_name = f.slot_name
$$;
