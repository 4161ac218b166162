-- booking.open_outbox_change_feed() -> 'outbox'
-- Puts the change feed in mode outbox: the trigger appointments_stage_change writes each
-- change's events into booking.appointment_changes in the writer's transaction (one more
-- row per booking, no NOTIFY), and the relay moves them. The fallback where logical
-- decoding is not available; idempotent.
-- Switching from logical: the trigger is on from this commit; the slot stays until the
-- relay has read it up to here, then `python -m app migrate` drops it
-- (booking.drop_change_feed_slot, after relaying up to a WAL position taken after this
-- commit). If the slot was already lost, what the feed may have
-- missed is announced (booking.announce_changed_appointments) and the slot forgotten.
-- Locks: advisory (lock_namespace('change_feed'), 0), waiting for a running relay; SHARE ROW
-- EXCLUSIVE on booking.appointments while enabling the trigger.
-- Raises: nothing of its own.
CREATE OR REPLACE FUNCTION booking.open_outbox_change_feed()
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_feed booking.change_feed;
BEGIN
    PERFORM pg_advisory_xact_lock(booking.lock_namespace('change_feed'), 0);
    SELECT * INTO v_feed FROM booking.change_feed;
    IF EXISTS (SELECT FROM pg_trigger t
                WHERE t.tgrelid = 'booking.appointments'::regclass
                  AND t.tgname = 'appointments_stage_change' AND t.tgenabled = 'D') THEN
        ALTER TABLE booking.appointments ENABLE TRIGGER appointments_stage_change;
    END IF;
    IF v_feed.slot_name IS NOT NULL AND NOT EXISTS (
           SELECT FROM pg_replication_slots s WHERE s.slot_name = v_feed.slot_name AND s.wal_status <> 'lost') THEN
        IF v_feed.mode = 'logical' THEN
            PERFORM booking.announce_changed_appointments(v_feed.relayed_at - interval '1 day');
        END IF;
        PERFORM pg_drop_replication_slot(s.slot_name) FROM pg_replication_slots s WHERE s.slot_name = v_feed.slot_name;
        v_feed.slot_name := NULL;
    END IF;
    UPDATE booking.change_feed f
       SET mode = 'outbox', slot_name = v_feed.slot_name,
           changed_at = CASE WHEN f.mode = 'outbox' THEN f.changed_at ELSE now() END
     WHERE f.one_row;
    RETURN 'outbox';
END
$$;
