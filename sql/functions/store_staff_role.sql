-- booking.store_staff_role(user, role, barber, shop) -> void
-- Writes the user's one staff role (booking.staff), replacing the one held before. No
-- checks: booking.grant_staff_role() makes them where the barber and the shop live; a
-- cluster's proxy keeps its own copy of every role with this (for authenticate_token).
-- Locks: the user's staff row. Raises: 23514 (a CHECK of booking.staff) for a bad pair.
CREATE OR REPLACE FUNCTION booking.store_staff_role(
    p_user_id bigint, p_role text, p_barber_id bigint, p_shop_id bigint)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO booking.staff AS s (user_id, role, barber_id, shop_id)
    VALUES (p_user_id, p_role, p_barber_id, p_shop_id)
    ON CONFLICT (user_id) DO UPDATE
        SET role = EXCLUDED.role, barber_id = EXCLUDED.barber_id, shop_id = EXCLUDED.shop_id;
END;
