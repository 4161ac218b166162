-- Rolls back 0014.series.sql: the occurrences stay, as unlinked appointments. The previous
-- functions come back with the previous checkout's sql/functions/.
DROP FUNCTION IF EXISTS booking.book_series(bigint, bigint, text, date, time, int, int, int, int, text, text, bigint);
DROP FUNCTION IF EXISTS booking.cancel_following(bigint, bigint);
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
DROP INDEX booking.appointments_series_idx;
ALTER TABLE booking.appointments DROP COLUMN series_id;
