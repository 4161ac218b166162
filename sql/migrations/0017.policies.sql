-- depends: 0016.calendar_keys
-- Booking policies (issue 15, part 3): per shop, overridable per service (NULL: the
-- shop's): the minimum notice before a start, the maximum advance, and the cut-offs before
-- a start after which a client may no longer cancel or move it (staff may). The defaults
-- (0, no maximum, 0, 0) change nothing for existing shops. appointments.changed_by records
-- who made the last change (the acting user), so a staff override of a cut-off is on record.
ALTER TABLE booking.shops
    ADD COLUMN min_notice_minutes int NOT NULL DEFAULT 0
        CONSTRAINT shops_min_notice_range CHECK (min_notice_minutes BETWEEN 0 AND 525600),
    ADD COLUMN max_advance_days int
        CONSTRAINT shops_max_advance_range CHECK (max_advance_days BETWEEN 1 AND 3650),
    ADD COLUMN cancel_cutoff_minutes int NOT NULL DEFAULT 0
        CONSTRAINT shops_cancel_cutoff_range CHECK (cancel_cutoff_minutes BETWEEN 0 AND 525600),
    ADD COLUMN reschedule_cutoff_minutes int NOT NULL DEFAULT 0
        CONSTRAINT shops_reschedule_cutoff_range CHECK (reschedule_cutoff_minutes BETWEEN 0 AND 525600);
ALTER TABLE booking.services
    ADD COLUMN min_notice_minutes int
        CONSTRAINT services_min_notice_range CHECK (min_notice_minutes BETWEEN 0 AND 525600),
    ADD COLUMN max_advance_days int
        CONSTRAINT services_max_advance_range CHECK (max_advance_days BETWEEN 1 AND 3650),
    ADD COLUMN cancel_cutoff_minutes int
        CONSTRAINT services_cancel_cutoff_range CHECK (cancel_cutoff_minutes BETWEEN 0 AND 525600),
    ADD COLUMN reschedule_cutoff_minutes int
        CONSTRAINT services_reschedule_cutoff_range CHECK (reschedule_cutoff_minutes BETWEEN 0 AND 525600);
ALTER TABLE booking.appointments ADD COLUMN changed_by bigint;
-- The answers' shape gains changed_by after series_id (recreated by
-- sql/functions/appointment_records.sql; the functions that return it, by their files).
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
