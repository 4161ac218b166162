-- booking.assert_barber_staff(barber, actor) -> the barber's shop id
-- Who may manage one barber's own schedule (add time off, read their hours and time off):
-- an admin of the barber's shop (booking.assert_shop_admin: role admin for that shop or
-- every shop, while the session acts as an admin; a NULL actor is a trusted internal
-- caller, refused for booking_app), or that barber themself (booking.staff role barber
-- with this barber_id, while the session acts as a barber or is trusted with every right).
-- An admin of shop A is nobody to a barber of shop B; a barber is nobody to another barber.
-- Locks: none. Raises: BK003 barber_not_found, BK014 shop_not_found, BK012 not_permitted.
CREATE OR REPLACE FUNCTION booking.assert_barber_staff(p_barber_id bigint, p_actor_user_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop_id bigint;
BEGIN
    SELECT b.shop_id INTO v_shop_id FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    IF p_actor_user_id IS NOT NULL AND booking.acting_role() IN ('barber', 'staff')
       AND EXISTS (SELECT 1 FROM booking.staff st
                    WHERE st.user_id = p_actor_user_id AND st.role = 'barber' AND st.barber_id = p_barber_id) THEN
        RETURN v_shop_id;
    END IF;
    PERFORM booking.assert_shop_admin(v_shop_id, p_actor_user_id);
    RETURN v_shop_id;
END
$$;
