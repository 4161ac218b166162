-- Rolls back 0013.schedules.sql. booking.list_appointments goes with the previous
-- checkout's sql/functions/ (`make migrate` of that commit); dropped here so that nothing
-- is left that the previous code does not know.
DROP FUNCTION IF EXISTS booking.list_appointments(bigint, bigint, timestamptz, timestamptz, text, timestamptz, bigint, int);
DROP INDEX IF EXISTS booking.appointments_shop_start_idx;
