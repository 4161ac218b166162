-- :rows existing appointments for the scale scenario, spread evenly over barbers 1..1000,
-- in 2029 (before every bench booking), loaded with the user triggers off (no events):
-- the table, its indexes and the exclusion constraint are what a large table costs.
ALTER TABLE booking.appointments DISABLE TRIGGER USER;
INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes, status)
SELECT 1 + g % 1000, 1, 1 + g % 50000, 'Haircut',
       timestamptz '2025-01-01 00:00Z' + (g / 1000) * interval '30 minutes', 30,
       CASE WHEN g % 20 = 0 THEN 'cancelled' WHEN g % 3 = 0 THEN 'completed' ELSE 'scheduled' END
FROM generate_series(0, :rows - 1) g;
-- The read barber 1001: 1,000 earlier appointments and a busy day of 30 on 2031-06-02,
-- working 06:00-22:00 every day.
INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1001, 1, 7, 'Haircut', timestamptz '2031-01-01 06:00Z' + (g / 16) * interval '1 day' + (g % 16) * interval '1 hour', 30
FROM generate_series(0, 999) g;
INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
SELECT 1001, 1, 7, 'Haircut', timestamptz '2031-06-02 06:00Z' + g * interval '30 minutes', 30
FROM generate_series(0, 29) g;
INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)
SELECT 1001, d, time '06:00', time '22:00' FROM generate_series(1, 7) d;
ALTER TABLE booking.appointments ENABLE TRIGGER USER;
