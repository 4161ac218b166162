-- depends: 0013.schedules
-- Recurring bookings (issue 15, part 5): booking.book_series books every N weeks, K
-- occurrences, at one local time in the barber's zone, all or nothing. Each occurrence is an
-- ordinary appointment; series_id (the id of the series' first occurrence: ids are unique
-- in every partition and carry the shop) links them, so booking.cancel_following cancels
-- one and the later ones of its series in one call. Setting series_id changes no version
-- (booking.stamp_appointment_version does not count it) and announces nothing.
ALTER TABLE booking.appointments ADD COLUMN series_id bigint;
CREATE INDEX appointments_series_idx ON booking.appointments (series_id, start_time) WHERE series_id IS NOT NULL;
-- The answers' shape gains series_id after hold_expires_at (recreated by
-- sql/functions/appointment_records.sql; the functions that return it, by their files).
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
