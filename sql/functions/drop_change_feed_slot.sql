-- booking.drop_change_feed_slot() -> true when the feed has no slot any more
-- After a switch to mode outbox: drops the feed's replication slot, which until then keeps
-- WAL. The caller first relays what the slot still holds, after
-- booking.open_outbox_change_feed() committed: booking.relay_change_feed(..., p_upto) until
-- caught_up (app/changefeed.py, drain).
-- While a relay still streams the slot (it lets go within a second of seeing the mode
-- change) it returns false: call again. In mode logical it refuses.
-- Locks: advisory (lock_namespace('change_feed'), 0), waiting for a running relay.
-- Raises: BK008 invalid_argument in mode logical.
CREATE OR REPLACE FUNCTION booking.drop_change_feed_slot()
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_feed booking.change_feed;
BEGIN
    PERFORM pg_advisory_xact_lock(booking.lock_namespace('change_feed'), 0);
    SELECT * INTO v_feed FROM booking.change_feed;
    IF v_feed.mode = 'logical' THEN
        PERFORM booking.raise_error('invalid_argument', 'The change feed reads its slot (mode logical): switch to outbox first.');
    END IF;
    IF v_feed.slot_name IS NULL THEN
        RETURN true;
    END IF;
    IF EXISTS (SELECT FROM pg_replication_slots s WHERE s.slot_name = v_feed.slot_name AND s.active) THEN
        RETURN false;
    END IF;
    PERFORM pg_drop_replication_slot(s.slot_name) FROM pg_replication_slots s WHERE s.slot_name = v_feed.slot_name;
    UPDATE booking.change_feed f SET slot_name = NULL, relayed_lsn = '0/0' WHERE f.one_row;
    RETURN true;
END
$$;
