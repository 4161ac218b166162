-- booking.fill_appointment_shop(): trigger function; an appointment inserted without a
-- shop_id (a raw INSERT of an internal service written before shops) gets its barber's.
-- The functions always name the shop, so the trigger's WHEN clause skips them: it costs a
-- booking nothing. The foreign key (barber_id, shop_id) -> barbers refuses a wrong shop.
-- Locks: none. Raises: nothing (an unknown barber leaves shop_id NULL: 23502 follows).
CREATE OR REPLACE FUNCTION booking.fill_appointment_shop()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER  -- a direct writer need not be able to read barbers
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT b.shop_id INTO NEW.shop_id FROM booking.barbers b WHERE b.id = NEW.barber_id;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER appointments_fill_shop
    BEFORE INSERT ON booking.appointments
    FOR EACH ROW WHEN (NEW.shop_id IS NULL)
    EXECUTE FUNCTION booking.fill_appointment_shop();
