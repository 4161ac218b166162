-- The bench schema: reference data and helpers, created by the harness in its own
-- databases (never part of the product). Barbers 1..1000 (UTC, no working hours: any
-- time is bookable), 1001 (hot / read barber), 1002 (flash-sale barber); 'Haircut' 30 min.
CREATE SCHEMA IF NOT EXISTS bench;
INSERT INTO booking.barbers (id, name)
SELECT g, 'Bench barber ' || g FROM generate_series(1, 1002) g
ON CONFLICT (id) DO NOTHING;
INSERT INTO booking.services (name, duration_minutes) VALUES ('Haircut', 30)
ON CONFLICT (name) DO NOTHING;
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
    INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
    VALUES (p_barber, 1, 'Haircut', p_start, 30);
    RETURN 'ok';
EXCEPTION
    WHEN exclusion_violation THEN RETURN 'conflict';
    WHEN deadlock_detected THEN RETURN 'deadlock';
END $$;
