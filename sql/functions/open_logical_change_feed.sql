-- booking.open_logical_change_feed(new slot) -> the replication slot's name
-- Puts the change feed in mode logical: the relay reads the WAL through the logical
-- replication slot booking.change_feed_slot_name() (plugin wal2json), and the outbox trigger
-- appointments_stage_change is disabled, so a booking's transaction writes nothing for the
-- feed. The caller creates the slot first, as a statement of its own (PostgreSQL creates a
-- logical slot reliably only at the top level, outside a function, in a transaction that
-- has written nothing): app/changefeed.py, open_logical. p_new_slot says it did.
-- With a new slot, what the feed relayed from an earlier slot is forgotten (relayed_lsn
-- 0/0), and when that earlier slot was lost while the feed was logical (PostgreSQL
-- invalidated it: it held more WAL than max_slot_wal_keep_size; or the server lost it),
-- what the feed may have missed since its last relayed commit (less a day, for
-- transactions that were long) is announced by booking.announce_changed_appointments.
-- Switching from outbox: the slot exists before the trigger stops, so no change falls
-- between the two sources (one read twice is announced once); the relay then empties the
-- outbox.
-- Locks: advisory (lock_namespace('change_feed'), 0), waiting for a running relay; SHARE ROW
-- EXCLUSIVE on booking.appointments while disabling the trigger.
-- Raises: 55000 object_not_in_prerequisite_state when the slot is missing or lost; 42501
-- when booking_owner may not read it (no REPLICATION).
CREATE OR REPLACE FUNCTION booking.open_logical_change_feed(p_new_slot boolean)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_feed booking.change_feed;
    v_slot text := booking.change_feed_slot_name();
BEGIN
    PERFORM pg_advisory_xact_lock(booking.lock_namespace('change_feed'), 0);
    IF NOT EXISTS (SELECT FROM pg_replication_slots s
                    WHERE s.slot_name = v_slot AND s.plugin = 'wal2json' AND s.wal_status <> 'lost') THEN
        RAISE EXCEPTION 'The change feed''s slot % does not exist or was lost: create it first', v_slot
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('SELECT pg_create_logical_replication_slot(%L, ''wal2json'')', v_slot);
    END IF;
    IF p_new_slot THEN
        -- The relay's functions read the slot as booking_owner: without REPLICATION that
        -- fails here (42501), before the mode changes, rather than at the first relay.
        PERFORM pg_replication_slot_advance(v_slot, s.confirmed_flush_lsn)
           FROM pg_replication_slots s WHERE s.slot_name = v_slot;
    END IF;
    SELECT * INTO v_feed FROM booking.change_feed;
    IF p_new_slot THEN
        UPDATE booking.change_feed f SET relayed_lsn = '0/0' WHERE f.one_row;
        IF v_feed.mode = 'logical' AND v_feed.slot_name IS NOT NULL THEN
            -- The previous slot's last changes may never have been relayed.
            PERFORM booking.announce_changed_appointments(v_feed.relayed_at - interval '1 day');
        END IF;
    END IF;
    UPDATE booking.change_feed f
       SET mode = 'logical', slot_name = v_slot,
           changed_at = CASE WHEN f.mode = 'logical' AND NOT p_new_slot THEN f.changed_at ELSE now() END
     WHERE f.one_row;
    IF EXISTS (SELECT FROM pg_trigger t
                WHERE t.tgrelid = 'booking.appointments'::regclass
                  AND t.tgname = 'appointments_stage_change' AND t.tgenabled <> 'D') THEN
        ALTER TABLE booking.appointments DISABLE TRIGGER appointments_stage_change;
    END IF;
    RETURN v_slot;
END
$$;
