-- booking.actor_role(user, appointment owner, appointment barber) -> text or NULL
-- Who p_user_id is to one appointment: 'admin' (staff admin of every shop, or of the
-- shop of the appointment's barber: an admin of shop A is nobody in shop B), 'barber' (staff of that
-- appointment's barber), 'owner' (the client who booked it), or NULL (a stranger, who may
-- neither see nor change it). The one definition of visibility and of who may act.
-- Staff rights count only as far as booking.acting_role() allows: acting as 'client' a
-- user is at most the owner of its own appointments; as 'barber' at most a barber; as
-- 'admin' (or 'staff', a trusted internal caller) whatever booking.staff says.
-- Locks: none. Raises: BK008 invalid_argument (a bad booking.acting_role).
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.actor_role(p_user_id bigint, p_owner_id bigint, p_barber_id bigint)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
        SELECT CASE
                   WHEN s.role = 'admin' AND r.acting IN ('admin', 'staff')
                        AND (s.shop_id IS NULL
                             OR s.shop_id = (SELECT b.shop_id FROM booking.barbers b WHERE b.id = p_barber_id))
                   THEN 'admin'
                   WHEN s.role = 'barber' AND s.barber_id = p_barber_id AND r.acting IN ('barber', 'staff') THEN 'barber'
                   WHEN p_user_id = p_owner_id THEN 'owner'
               END
        FROM (SELECT booking.acting_role() AS acting) AS r
        LEFT JOIN booking.staff s ON s.user_id = p_user_id);
END
$$;
