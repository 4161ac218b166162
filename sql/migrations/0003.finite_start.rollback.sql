ALTER TABLE booking.appointments DROP CONSTRAINT appointments_start_finite;
