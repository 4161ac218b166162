-- booking.create_shop(name, IANA time zone, admin user) -> the new booking.shops row
-- A platform operation (`python -m app shop create`): executable by booking_client and the
-- owner, not by the HTTP service. p_admin_user_id, when given, becomes the shop's admin
-- (booking.staff; refused when that user already holds a staff role: one role per user).
-- The work is booking.create_shop_at() with the next shop id (a cluster's proxy numbers
-- shops itself).
-- Locks: the new rows. Raises: BK008 invalid_argument (name, time zone, admin).
CREATE OR REPLACE FUNCTION booking.create_shop(
    p_name text, p_timezone text DEFAULT 'UTC', p_admin_user_id bigint DEFAULT NULL)
RETURNS booking.shops
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The name is checked first, as before ids were drawn: a bad name spends no id.
    PERFORM booking.check_name('shop', p_name);
    RETURN booking.create_shop_at(nextval(pg_get_serial_sequence('booking.shops', 'id')),
                                  p_name, p_timezone, p_admin_user_id);
END
$$;
