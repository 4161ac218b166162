-- depends: 0011.partitions
-- Holds (issue 15): a client keeps a slot while paying or deciding. A hold is an
-- appointment row with status 'held' and an expiry (hold_expires_at), so it conflicts
-- through the same exclusion constraint as any active appointment. A constraint's
-- predicate cannot read the clock: an expired hold is turned into status 'expired' by the
-- overlap trigger of the first write it would block (booking.check_appointment_overlap),
-- in that write's statement, so it never blocks anyone and no sweeper is needed; reads
-- (availability) skip holds past their expiry. Confirming a hold makes it 'scheduled'
-- (same row, same id). The shop says how long a hold lasts (shops.hold_minutes, 5).
ALTER TABLE booking.appointments
    DROP CONSTRAINT appointments_status_known,
    ADD CONSTRAINT appointments_status_known
        CHECK (status IN ('held', 'scheduled', 'confirmed', 'completed', 'cancelled', 'no_show', 'expired')),
    ADD COLUMN hold_expires_at timestamptz,
    ADD CONSTRAINT appointments_hold_has_expiry CHECK (status <> 'held' OR hold_expires_at IS NOT NULL);

ALTER TABLE booking.appointments DROP CONSTRAINT appointments_no_overlap;
ALTER TABLE booking.appointments ADD CONSTRAINT appointments_no_overlap
    EXCLUDE USING gist (barber_id WITH =, blocked_during WITH &&)
    WHERE (status NOT IN ('cancelled', 'no_show', 'expired'));
DROP INDEX booking.appointments_barber_active_idx;
CREATE INDEX appointments_barber_active_idx ON booking.appointments (barber_id, status, start_time)
    WHERE status NOT IN ('cancelled', 'no_show', 'expired');

ALTER TABLE booking.shops ADD COLUMN hold_minutes int NOT NULL DEFAULT 5
    CONSTRAINT shops_hold_minutes_range CHECK (hold_minutes BETWEEN 1 AND 1440);

ALTER TABLE booking.appointment_events
    DROP CONSTRAINT appointment_events_kind_known,
    ADD CONSTRAINT appointment_events_kind_known CHECK (kind IN ('booked', 'changed', 'cancelled', 'held', 'released'));

-- The answers' shape gains hold_expires_at after shop_id (the view is recreated by
-- sql/functions/appointment_records.sql; the functions that return it, by their files).
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
