-- Rolls back 0012.holds.sql. Refused while holds (or expired holds) exist: their rows
-- would become appointments nobody booked. The previous functions come back with the
-- previous checkout's sql/functions/ (`make migrate` of that commit).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM booking.appointments WHERE status IN ('held', 'expired') OR hold_expires_at IS NOT NULL) THEN
        RAISE EXCEPTION 'holds exist: delete or confirm them before rolling back 0012.holds';
    END IF;
    IF EXISTS (SELECT 1 FROM booking.appointment_events WHERE kind IN ('held', 'released')) THEN
        RAISE EXCEPTION 'hold events exist in the change feed: purge them before rolling back 0012.holds';
    END IF;
END
$$;
DROP FUNCTION IF EXISTS booking.set_hold_minutes(bigint, int, bigint);
DROP FUNCTION IF EXISTS booking.hold_slot(bigint, bigint, text, timestamptz, int, int, text, text, bigint);
DROP FUNCTION IF EXISTS booking.confirm_hold(bigint, bigint);
DROP FUNCTION IF EXISTS booking.place_appointment(bigint, bigint, text, timestamptz, int, int, text, text, bigint, boolean);
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
ALTER TABLE booking.appointment_events
    DROP CONSTRAINT appointment_events_kind_known,
    ADD CONSTRAINT appointment_events_kind_known CHECK (kind IN ('booked', 'changed', 'cancelled'));
ALTER TABLE booking.shops DROP COLUMN hold_minutes;
DROP INDEX booking.appointments_barber_active_idx;
CREATE INDEX appointments_barber_active_idx ON booking.appointments (barber_id, status, start_time)
    WHERE status NOT IN ('cancelled', 'no_show');
ALTER TABLE booking.appointments DROP CONSTRAINT appointments_no_overlap;
ALTER TABLE booking.appointments ADD CONSTRAINT appointments_no_overlap
    EXCLUDE USING gist (barber_id WITH =, blocked_during WITH &&)
    WHERE (status NOT IN ('cancelled', 'no_show'));
ALTER TABLE booking.appointments
    DROP CONSTRAINT appointments_hold_has_expiry,
    DROP COLUMN hold_expires_at,
    DROP CONSTRAINT appointments_status_known,
    ADD CONSTRAINT appointments_status_known
        CHECK (status IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no_show'));
