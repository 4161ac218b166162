-- booking.get_appointment(appointment, acting user) -> the appointment (a row of
-- booking.appointment_records), or no row when it
-- does not exist or p_user_id may not see it (booking.actor_role).
-- Locks: none. Raises: nothing.
-- PL/pgSQL keeps this body's plan for the session; as a SQL function it could not be inlined
-- (SET clause, SECURITY DEFINER or sub-selects) and was parsed and planned at every call.
CREATE OR REPLACE FUNCTION booking.get_appointment(p_appointment_id bigint, p_user_id bigint)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT a.*
        FROM booking.appointment_records a
        WHERE a.id = p_appointment_id
          AND booking.actor_role(p_user_id, a.user_id, a.barber_id) IS NOT NULL;
END
$$;
