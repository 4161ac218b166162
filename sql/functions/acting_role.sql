-- booking.acting_role() -> text: 'client', 'barber', 'admin' or 'staff'
-- The most a caller may act as in this transaction: the session setting
-- booking.acting_role. The HTTP service sets it on every call to the role of the bearer
-- token ('client', 'barber' or 'admin'), so a request may do what its token allows and no
-- more, whatever other roles its user holds in booking.staff (a client token of a user who
-- is also an admin acts as a client). Unset or empty ('staff') means a trusted internal
-- caller acting with every right booking.staff gives p_user_id, as before the setting
-- existed. It can only lower a user's rights, never raise them (booking.actor_role).
-- Locks: none. Raises: BK008 invalid_argument for any other value.
CREATE OR REPLACE FUNCTION booking.acting_role()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role text := coalesce(nullif(current_setting('booking.acting_role', true), ''), 'staff');
BEGIN
    IF v_role IN ('client', 'barber', 'admin', 'staff') THEN
        RETURN v_role;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('booking.acting_role must be client, barber, admin or staff (got %s).', booking.shown(v_role)));
END
$$;
