-- The bench schema: reference data and helpers, created by the harness in its own
-- databases (never part of the product). Barbers 1..1000 (UTC, no working hours: any
-- time is bookable), 1001 (hot / read barber), 1002 (flash-sale barber); 'Haircut' 30 min.
CREATE SCHEMA IF NOT EXISTS bench;
INSERT INTO booking.barbers (id, name)
SELECT g, 'Bench barber ' || g FROM generate_series(1, 1002) g
ON CONFLICT (id) DO NOTHING;
INSERT INTO booking.services (name, duration_minutes) VALUES ('Haircut', 30)
ON CONFLICT (shop_id, name) DO NOTHING;
CREATE SEQUENCE IF NOT EXISTS bench.seq_unc;
CREATE SEQUENCE IF NOT EXISTS bench.seq_hot;
CREATE SEQUENCE IF NOT EXISTS bench.seq_flash;
CREATE SEQUENCE IF NOT EXISTS bench.seq_svc;

-- pgbench ends a client at its first error: the flash-sale scripts call these, which
-- turn an expected conflict (23P01) or deadlock (40P01) into a result. Both sides pay
-- the same subtransaction.
CREATE OR REPLACE FUNCTION bench.try_book(p_barber bigint, p_start timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM booking.book_appointment(p_barber, 1, 'Haircut', p_start);
    RETURN 'ok';
EXCEPTION
    WHEN exclusion_violation THEN RETURN 'conflict';
    WHEN deadlock_detected THEN RETURN 'deadlock';
END $$;

CREATE OR REPLACE FUNCTION bench.try_raw(p_barber bigint, p_start timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
    VALUES (p_barber, 1, 1, 'Haircut', p_start, 30);
    RETURN 'ok';
EXCEPTION
    WHEN exclusion_violation THEN RETURN 'conflict';
    WHEN deadlock_detected THEN RETURN 'deadlock';
END $$;

-- The physical limit of a booking write (the baseline of every engine ratio): a copy of the
-- appointments table with its columns, generated column, CHECK and exclusion constraints and
-- indexes, and the (barber, shop) foreign key, but none of the project's triggers.
CREATE TABLE IF NOT EXISTS bench.bare_appointments (LIKE booking.appointments INCLUDING ALL);
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'bench.bare_appointments'::regclass AND contype = 'f') THEN
        ALTER TABLE bench.bare_appointments ADD FOREIGN KEY (barber_id, shop_id) REFERENCES booking.barbers (id, shop_id);
    END IF;
END $$;
CREATE SEQUENCE IF NOT EXISTS bench.seq_bare;
CREATE SEQUENCE IF NOT EXISTS bench.seq_bare_hot;
CREATE SEQUENCE IF NOT EXISTS bench.seq_svc_key;

-- Growth with the bookings of one day: barbers 1100 + k hold k five-minute appointments on
-- 2045-03-01 between 00:00 and 23:00 UTC (none after), for k in 0, 16, 64, 256.
INSERT INTO booking.services (name, duration_minutes) VALUES ('Trim', 5) ON CONFLICT (shop_id, name) DO NOTHING;
INSERT INTO booking.barbers (id, name)
SELECT 1100 + k, 'Day barber ' || k FROM unnest(ARRAY[0, 16, 64, 256]) k
ON CONFLICT (id) DO NOTHING;
INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1100 + k, 1, 7, 'Trim', timestamptz '2045-03-01 00:00Z' + (i * 1380 / k) * interval '1 minute', 5
FROM unnest(ARRAY[16, 64, 256]) k, generate_series(0, k - 1) i
WHERE NOT EXISTS (SELECT FROM booking.appointments a WHERE a.barber_id = 1100 + k);
