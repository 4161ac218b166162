DROP TRIGGER IF EXISTS appointments_publish_event ON booking.appointments;
DROP FUNCTION IF EXISTS booking.publish_appointment_event();
DROP FUNCTION IF EXISTS booking.events_since(bigint, bigint);
DROP FUNCTION IF EXISTS booking.free_slots(bigint, date, text, int, int, int);
DROP TABLE booking.appointment_events;
DROP TABLE booking.time_off;
