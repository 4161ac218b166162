-- The slot search for the read barber's busy day (30 appointments, 06:00-22:00 hours).
SELECT count(*) FROM booking.free_slots(1001, date '2031-06-02', 'Haircut');
