-- Physical limit: the same row as book_appointment writes, INSERTed directly (same table,
-- constraint, indexes and triggers). n -> (barber 1 + n % 1000, slot n / 1000): never collides.
INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1 + s.n % 1000, 1, 1, 'Haircut', timestamptz '2030-01-01 00:00Z' + (s.n / 1000) * interval '30 minutes', 30
FROM (SELECT nextval('bench.seq_unc') AS n) s;
