-- depends: 0007.appointment_records
-- The change feed leaves the booking's transaction (issue 13).
--
-- Before: the trigger appointments_publish_event inserted an event row and called
-- pg_notify() inside every booking's transaction; pg_notify takes a database-wide lock at
-- commit, so the commits of all barbers queued behind each other.
-- After: a booking writes only its appointment. The relay (booking.relay_change_feed(),
-- run by the service or `python -m app relay`) turns committed changes into
-- booking.appointment_events afterwards, in commit order, and notifies once per barber
-- per batch from its own transaction. It reads them from one of two sources, the feed's
-- mode (booking.change_feed.mode):
--   logical  the WAL the booking writes anyway, through a logical replication slot
--            (wal2json); the booking's transaction writes nothing more;
--   outbox   where logical decoding is not available (wal_level below logical, no
--            wal2json, no REPLICATION right): the trigger appointments_stage_change writes
--            one row per change into booking.appointment_changes, without NOTIFY.
-- `python -m app migrate` chooses the mode (CHANGE_FEED=auto|logical|outbox).
DROP TRIGGER IF EXISTS appointments_publish_event ON booking.appointments;
DROP FUNCTION IF EXISTS booking.publish_appointment_event();

-- Logical decoding of an UPDATE then carries the old row too: the relay needs the old
-- status (was it a cancellation?) and the old barber (a move concerns two barbers).
-- Costs WAL on UPDATE only, and only when wal_level is logical.
ALTER TABLE booking.appointments REPLICA IDENTITY FULL;

-- One event per (appointment, version, barber): the relay may read a change twice (after a
-- crash between its commit and the slot's advance, or from both sources while the mode
-- switches) and the second copy is dropped.
ALTER TABLE booking.appointment_events ADD COLUMN version int;
UPDATE booking.appointment_events SET version = (payload->>'version')::int;
DELETE FROM booking.appointment_events e
 USING booking.appointment_events d
 WHERE d.appointment_id = e.appointment_id AND d.version = e.version AND d.barber_id = e.barber_id
   AND d.id < e.id;
ALTER TABLE booking.appointment_events ALTER COLUMN version SET NOT NULL;
CREATE UNIQUE INDEX appointment_events_change_key
    ON booking.appointment_events (appointment_id, version, barber_id);

-- The outbox: changes waiting for the relay (mode outbox). The relay deletes what it moves.
CREATE TABLE booking.appointment_changes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    barber_id      bigint NOT NULL,
    appointment_id bigint NOT NULL,
    version        int NOT NULL,
    kind           text NOT NULL,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The feed's state: one row.
CREATE TABLE booking.change_feed (
    one_row     boolean PRIMARY KEY DEFAULT true CONSTRAINT change_feed_one_row CHECK (one_row),
    mode        text NOT NULL DEFAULT 'outbox' CONSTRAINT change_feed_mode_known CHECK (mode IN ('logical', 'outbox')),
    slot_name   text,            -- the replication slot read in mode logical
    relayed_lsn pg_lsn NOT NULL DEFAULT '0/0',  -- end of the last commit relayed from the slot
    relayed_at  timestamptz,     -- commit time of the last change relayed from the slot
    changed_at  timestamptz NOT NULL DEFAULT now()  -- when the mode was last set
);
INSERT INTO booking.change_feed DEFAULT VALUES;
-- Existing events stay; the feed continues after them.
