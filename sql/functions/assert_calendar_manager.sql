-- booking.assert_calendar_manager(barber, actor) -> the barber's row
-- The check of issuing and revoking a barber's calendar-feed keys, and of reading the feed
-- with a staff token: the barber exists, and p_actor_user_id is an admin of the barber's
-- shop (or of every shop) while the session acts as an admin, or is that barber while it
-- acts as a barber (booking.acting_role: the token's role over HTTP; 'staff' allows
-- either). A client is neither. A NULL actor is a trusted internal caller (booking_client,
-- an operator) and is refused when the session runs as the HTTP service's role
-- booking_app, which always acts for a user (as booking.assert_shop_admin).
-- Locks: none. Raises: BK003 barber_not_found, BK012 not_permitted, BK008 invalid_argument
--   (a bad booking.acting_role).
CREATE OR REPLACE FUNCTION booking.assert_calendar_manager(p_barber_id bigint, p_actor_user_id bigint)
RETURNS booking.barbers
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_barber booking.barbers;
    v_acting text := booking.acting_role();
BEGIN
    SELECT * INTO v_barber FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    IF p_actor_user_id IS NULL THEN
        IF session_user = 'booking_app' OR current_setting('role') = 'booking_app' THEN
            PERFORM booking.raise_error('not_permitted',
                'The HTTP service acts for a user: name the acting user (p_actor_user_id).');
        END IF;
        RETURN v_barber;
    END IF;
    IF NOT EXISTS (
            SELECT 1 FROM booking.staff s
            WHERE s.user_id = p_actor_user_id
              AND ((s.role = 'admin' AND v_acting IN ('admin', 'staff')
                    AND (s.shop_id IS NULL OR s.shop_id = v_barber.shop_id))
                   OR (s.role = 'barber' AND v_acting IN ('barber', 'staff') AND s.barber_id = p_barber_id))) THEN
        PERFORM booking.raise_error('not_permitted',
            format('User %s is neither barber %s nor an admin of its shop.', p_actor_user_id, p_barber_id));
    END IF;
    RETURN v_barber;
END
$$;
