-- Rolls back 0007.appointment_records.sql: the functions return their old shapes again
-- once the previous checkout's sql/functions/ are applied (`make migrate` of that commit).
DROP FUNCTION IF EXISTS booking.cancel_appointment(bigint, bigint, int);
DROP FUNCTION IF EXISTS booking.update_appointment(bigint, bigint, jsonb, int);
DROP FUNCTION IF EXISTS booking.get_appointment(bigint, bigint);
DROP FUNCTION IF EXISTS booking.book_appointment(bigint, bigint, text, timestamptz, int, int, text, text);
DROP VIEW IF EXISTS booking.appointment_records;
DROP TABLE booking.status_transitions;
UPDATE booking.idempotency_keys
   SET result = result - 'end_time' - 'booking_date' - 'booking_time' - 'timezone' - 'replayed'
 WHERE result IS NOT NULL;
