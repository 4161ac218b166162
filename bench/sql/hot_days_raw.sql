-- One barber (1001), consecutive bookings on consecutive days: n -> day n % 20000, slot n / 20000.
INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1001, 1, 1, 'Haircut',
       timestamptz '2040-01-01 00:00Z' + (s.n % 20000) * interval '1 day' + (s.n / 20000) * interval '30 minutes', 30
FROM (SELECT nextval('bench.seq_hot') AS n) s;
