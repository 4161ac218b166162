-- The slot search on the day of barber 1100 + :k (k existing bookings that day).
SELECT count(*) FROM booking.free_slots(1100 + :k, date '2045-03-01', 'Trim');
