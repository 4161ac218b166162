-- Rolls back 0015.staff_api.sql. The previous signatures of set_working_hours and
-- add_time_off, and nothing of the staff API's readers, go with the previous checkout's
-- sql/functions/ (`make migrate` of that commit); dropped here so that nothing is left that
-- the previous code does not know.
DROP FUNCTION IF EXISTS booking.set_working_hours(bigint, jsonb, bigint, boolean, bigint);
DROP FUNCTION IF EXISTS booking.add_time_off(bigint, timestamptz, timestamptz, text, bigint, boolean);
DROP FUNCTION IF EXISTS booking.get_working_hours(bigint, bigint);
DROP FUNCTION IF EXISTS booking.list_time_off(bigint, bigint, timestamptz);
DROP FUNCTION IF EXISTS booking.assert_barber_staff(bigint, bigint);
DROP FUNCTION IF EXISTS booking.assert_no_stranded_appointments(bigint, tstzrange, boolean, text);
DROP FUNCTION IF EXISTS booking.working_hours_version(bigint);
