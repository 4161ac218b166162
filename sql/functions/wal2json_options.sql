-- booking.wal2json_options() -> the options the change feed's slot is read with (wal2json
-- format 2), as name, value pairs: the SQL interface (booking.relay_change_feed) and the
-- replication connection (app/relay.py) read the same rows, which
-- booking.record_wal_changes turns into events. Only INSERT and UPDATE of
-- booking.appointments, and the feed's own marks (booking.change_feed_mark), are decoded
-- into rows; every transaction still shows as a B and a C row (its end is what the slot
-- confirms).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.wal2json_options()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['format-version', '2', 'include-xids', '1', 'include-lsn', '1', 'include-timestamp', '1',
                 'include-types', '0', 'actions', 'insert,update', 'add-tables', 'booking.appointments',
                 'add-msg-prefixes', 'booking.change_feed.mark']
$$;
