-- A booking on the day of barber 1100 + :k (k existing bookings that day), rolled back so
-- that the day stays as it is: the latency of the checks against k bookings (no commit).
BEGIN;
SELECT id FROM booking.book_appointment(1100 + :k, 7, 'Trim', timestamptz '2045-03-01 23:30Z');
ROLLBACK;
