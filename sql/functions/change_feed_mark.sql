-- booking.change_feed_mark() -> the WAL position up to which the change feed must have read
-- For a caller that needs every change committed so far announced (a mode switch, the
-- torture checker, tests): call it in a transaction with synchronous_commit on, commit, then
-- call booking.relay_change_feed(..., p_upto => the result) until caught_up
-- (app/changefeed.py, drain). With a slot (mode logical) it writes a logical message into
-- the WAL (prefix booking.change_feed.mark), so that the commit flushes the WAL up to here
-- even when nothing else was written (logical decoding only reads flushed WAL), and so
-- that a relay streaming the slot records how far it got when it reaches the mark
-- (booking.record_wal_changes). Without a slot it writes nothing.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.change_feed_mark()
RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_is_in_recovery() THEN
        RETURN NULL;
    END IF;
    IF (SELECT f.slot_name IS NOT NULL FROM booking.change_feed f) THEN
        PERFORM pg_logical_emit_message(true, 'booking.change_feed.mark', '');
    END IF;
    RETURN pg_current_wal_insert_lsn();
END
$$;
