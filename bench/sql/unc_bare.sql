-- The physical limit: the same row as unc_raw.sql, INSERTed into bench.bare_appointments (the
-- table's columns, constraints and indexes and the barber foreign key, none of our triggers).
INSERT INTO bench.bare_appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1 + s.n % 1000, 1, 1, 'Haircut', timestamptz '2030-01-01 00:00Z' + (s.n / 1000) * interval '30 minutes', 30
FROM (SELECT nextval('bench.seq_bare') AS n) s;
