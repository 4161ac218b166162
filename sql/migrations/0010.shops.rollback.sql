-- Rolls back 0010.shops.sql. Only possible while every row is in the default shop (the
-- columns cannot be dropped without losing which shop the rest belongs to): the first
-- statement fails otherwise. The previous functions come back with the previous
-- checkout's sql/functions/ (`make migrate` of that commit).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM booking.shops WHERE id <> 1) THEN
        RAISE EXCEPTION 'shops other than the default one exist: move or delete them before rolling back 0010.shops';
    END IF;
END
$$;
DROP FUNCTION IF EXISTS booking.book_appointment(bigint, bigint, text, timestamptz, int, int, text, text, bigint);
DROP FUNCTION IF EXISTS booking.free_slots(bigint, date, text, int, int, int, bigint);
DROP FUNCTION IF EXISTS booking.local_start(bigint, date, time, bigint);
DROP FUNCTION IF EXISTS booking.candidate_barbers(bigint, text);
DROP FUNCTION IF EXISTS booking.choose_barber(bigint, text, int, timestamptz, int, int);
DROP FUNCTION IF EXISTS booking.authenticate_token(bytea);
DROP FUNCTION IF EXISTS booking.create_api_token(bytea, bigint, text, bigint, timestamptz, bigint);
DROP FUNCTION IF EXISTS booking.create_shop(text, text, bigint);
DROP FUNCTION IF EXISTS booking.create_barber(bigint, text, text, bigint);
DROP FUNCTION IF EXISTS booking.create_service(bigint, text, int, int, bigint);
DROP FUNCTION IF EXISTS booking.set_working_hours(bigint, jsonb, bigint);
DROP FUNCTION IF EXISTS booking.add_time_off(bigint, timestamptz, timestamptz, text, bigint);
DROP FUNCTION IF EXISTS booking.assert_shop_admin(bigint, bigint);
DROP FUNCTION IF EXISTS booking.fill_appointment_shop() CASCADE;
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
ALTER TABLE booking.api_tokens DROP COLUMN shop_id;
ALTER TABLE booking.staff DROP COLUMN shop_id;
ALTER TABLE booking.appointments
    DROP CONSTRAINT appointments_barber_shop_fkey,
    ADD CONSTRAINT appointments_barber_id_fkey FOREIGN KEY (barber_id) REFERENCES booking.barbers (id),
    DROP COLUMN shop_id;
ALTER TABLE booking.services
    DROP CONSTRAINT services_shop_name_key,
    ADD CONSTRAINT services_name_key UNIQUE (name),
    DROP COLUMN shop_id;
DROP INDEX booking.barbers_shop_idx;
ALTER TABLE booking.barbers DROP CONSTRAINT barbers_id_shop_key, DROP COLUMN shop_id;
DROP TABLE booking.shops;
