-- booking.open_logical_change_feed() -> the replication slot's name
-- Puts the change feed in mode logical: the relay reads the WAL through a logical
-- replication slot (plugin wal2json) named booking_feed_<database oid>, and the outbox
-- trigger appointments_stage_change is disabled, so a booking's transaction writes
-- nothing for the feed. Idempotent: an existing healthy slot is kept.
-- A slot that is missing or that PostgreSQL invalidated (it held more WAL than
-- max_slot_wal_keep_size) while the feed was logical is replaced, and what the feed may
-- have missed since its last relayed commit (less a day, for transactions that were long)
-- is announced by booking.announce_changed_appointments.
-- Switching from outbox: the slot exists before the trigger stops, so no change falls
-- between the two sources (one read twice is announced once); the relay then empties the
-- outbox. Call it outside an explicit transaction: PostgreSQL creates a logical slot only
-- in a transaction that has written nothing, and waits for the transactions running then.
-- Needs: wal_level = logical, wal2json installed, and REPLICATION for booking_owner (the
-- migration grants it when it runs as a superuser).
-- Locks: advisory (lock_namespace('change_feed'), 0), waiting for a running relay; SHARE ROW
-- EXCLUSIVE on booking.appointments while disabling the trigger.
-- Raises: PostgreSQL's own errors when logical decoding is not possible: 55000
-- (wal_level), 42501 (no REPLICATION), 58P01 (no wal2json), 53400 (no free slot).
CREATE OR REPLACE FUNCTION booking.open_logical_change_feed()
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_feed    booking.change_feed;
    v_slot    text := 'booking_feed_' || (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    v_status  text;
    v_lsn     pg_lsn;
    v_new     boolean := false;
BEGIN
    PERFORM pg_advisory_xact_lock(booking.lock_namespace('change_feed'), 0);
    SELECT * INTO v_feed FROM booking.change_feed;
    SELECT s.wal_status INTO v_status FROM pg_replication_slots s WHERE s.slot_name = v_slot;
    IF v_status = 'lost' THEN
        PERFORM pg_drop_replication_slot(v_slot);
    END IF;
    IF v_status IS NULL OR v_status = 'lost' THEN
        SELECT s.lsn INTO v_lsn FROM pg_create_logical_replication_slot(v_slot, 'wal2json') AS s;
        v_new := true;
    END IF;
    IF v_new THEN
        UPDATE booking.change_feed f SET relayed_lsn = '0/0' WHERE f.one_row;
        IF v_feed.mode = 'logical' THEN
            -- The previous slot's last changes may never have been relayed.
            PERFORM booking.announce_changed_appointments(v_feed.relayed_at - interval '1 day');
        END IF;
    END IF;
    UPDATE booking.change_feed f
       SET mode = 'logical', slot_name = v_slot,
           changed_at = CASE WHEN f.mode = 'logical' AND NOT v_new THEN f.changed_at ELSE now() END
     WHERE f.one_row;
    IF EXISTS (SELECT FROM pg_trigger t
                WHERE t.tgrelid = 'booking.appointments'::regclass
                  AND t.tgname = 'appointments_stage_change' AND t.tgenabled <> 'D') THEN
        ALTER TABLE booking.appointments DISABLE TRIGGER appointments_stage_change;
    END IF;
    RETURN v_slot;
END
$$;
