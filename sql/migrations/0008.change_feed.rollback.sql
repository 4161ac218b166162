-- Rolls back 0008.change_feed.sql. The previous checkout's sql/functions/ (`make migrate`
-- of that commit) recreates publish_appointment_event and its trigger; the replication
-- slot, if any, is dropped here so that it does not keep WAL forever.
SELECT pg_drop_replication_slot(s.slot_name)
  FROM pg_replication_slots s
  JOIN booking.change_feed f ON f.slot_name = s.slot_name
 WHERE NOT s.active;
DROP TRIGGER IF EXISTS appointments_stage_change ON booking.appointments;
DROP FUNCTION IF EXISTS booking.stage_appointment_change();
DROP FUNCTION IF EXISTS booking.relay_change_feed(int, pg_lsn);
DROP FUNCTION IF EXISTS booking.open_logical_change_feed(boolean);
DROP FUNCTION IF EXISTS booking.open_outbox_change_feed();
DROP FUNCTION IF EXISTS booking.drop_change_feed_slot();
DROP FUNCTION IF EXISTS booking.change_feed_status();
DROP FUNCTION IF EXISTS booking.change_feed_mark();
DROP FUNCTION IF EXISTS booking.record_wal_changes(jsonb[]);
DROP FUNCTION IF EXISTS booking.wal2json_options();
DROP FUNCTION IF EXISTS booking.change_feed_slot_name();
DROP FUNCTION IF EXISTS booking.announce_changed_appointments(timestamptz);
DROP FUNCTION IF EXISTS booking.appointment_change_events(booking.appointments, booking.appointments, timestamptz);
-- Changes staged but not relayed become events, as the old trigger would have written them.
INSERT INTO booking.appointment_events (barber_id, appointment_id, version, kind, payload, created_at)
SELECT c.barber_id, c.appointment_id, c.version, c.kind, c.payload, c.created_at
  FROM booking.appointment_changes c ORDER BY c.id
ON CONFLICT DO NOTHING;
DROP TABLE booking.appointment_changes;
DROP TABLE booking.change_feed;
DROP INDEX booking.appointment_events_change_key;
ALTER TABLE booking.appointment_events DROP COLUMN version;
ALTER TABLE booking.appointments REPLICA IDENTITY DEFAULT;
