-- The physical limit for hot_days_book.sql's mapping, into bench.bare_appointments.
INSERT INTO bench.bare_appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1001, 1, 1, 'Haircut',
       timestamptz '2040-01-01 00:00Z' + (s.n % 20000) * interval '1 day' + (s.n / 20000) * interval '30 minutes', 30
FROM (SELECT nextval('bench.seq_bare_hot') AS n) s;
