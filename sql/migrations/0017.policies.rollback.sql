-- Rolls back 0017.policies.sql (the policies are lost; nothing else). The previous
-- functions come back with the previous checkout's sql/functions/.
DROP FUNCTION IF EXISTS booking.set_shop_policy(bigint, int, int, int, int, bigint);
DROP FUNCTION IF EXISTS booking.set_service_policy(bigint, text, int, int, int, int, bigint);
DROP FUNCTION IF EXISTS booking.shop_policy(bigint);
DROP FUNCTION IF EXISTS booking.effective_policy(bigint, text);
DROP FUNCTION IF EXISTS booking.assert_start_allowed(bigint, text, timestamptz, bigint, bigint);
DROP FUNCTION IF EXISTS booking.assert_change_allowed(booking.appointments, booking.appointments, text);
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
ALTER TABLE booking.appointments DROP COLUMN changed_by;
ALTER TABLE booking.services DROP COLUMN min_notice_minutes, DROP COLUMN max_advance_days,
    DROP COLUMN cancel_cutoff_minutes, DROP COLUMN reschedule_cutoff_minutes;
ALTER TABLE booking.shops DROP COLUMN min_notice_minutes, DROP COLUMN max_advance_days,
    DROP COLUMN cancel_cutoff_minutes, DROP COLUMN reschedule_cutoff_minutes;
