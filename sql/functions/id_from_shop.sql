-- booking.id_from_shop() -> trigger: composes the id of a new row of a shop other than 1
-- A row whose id is a plain sequence value n (below 2^40) but whose shop is not the default
-- one gets id shop_id * 2^40 + n, so that the id says where the row lives (booking.shop_of_id).
-- Fires only for such rows (WHEN), so the default shop's inserts pay nothing. An id that
-- already carries a shop is left alone; the CHECK *_id_carries_shop refuses a wrong one.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.id_from_shop()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.id := (NEW.shop_id << 40) | NEW.id;
    RETURN NEW;
END
$$;

-- Named to sort after appointments_fill_shop: BEFORE triggers fire in name order, and a raw
-- INSERT's shop is filled in first.
CREATE OR REPLACE TRIGGER barbers_id_from_shop
    BEFORE INSERT ON booking.barbers
    FOR EACH ROW WHEN (NEW.shop_id <> 1 AND NEW.id < 1099511627776)
    EXECUTE FUNCTION booking.id_from_shop();
CREATE OR REPLACE TRIGGER services_id_from_shop
    BEFORE INSERT ON booking.services
    FOR EACH ROW WHEN (NEW.shop_id <> 1 AND NEW.id < 1099511627776)
    EXECUTE FUNCTION booking.id_from_shop();
CREATE OR REPLACE TRIGGER appointments_id_from_shop
    BEFORE INSERT ON booking.appointments
    FOR EACH ROW WHEN (NEW.shop_id <> 1 AND NEW.id < 1099511627776)
    EXECUTE FUNCTION booking.id_from_shop();
CREATE OR REPLACE TRIGGER webhook_subscriptions_id_from_shop
    BEFORE INSERT ON booking.webhook_subscriptions
    FOR EACH ROW WHEN (NEW.shop_id <> 1 AND NEW.id < 1099511627776)
    EXECUTE FUNCTION booking.id_from_shop();
