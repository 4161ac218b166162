-- booking.get_working_hours(barber, actor) -> the barber's working hours, in order
-- (weekday, opens_at), and their version (booking.working_hours_version, the HTTP ETag) on
-- every row; no rows when the barber has none (bookable at any time).
-- For staff: p_actor_user_id as booking.assert_barber_staff (an admin of the barber's shop,
-- or that barber).
-- Locks: none. Raises: BK003 barber_not_found, BK014, BK012 not_permitted.
CREATE OR REPLACE FUNCTION booking.get_working_hours(p_barber_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS TABLE (weekday int, opens_at time, closes_at time, version bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM booking.assert_barber_staff(p_barber_id, p_actor_user_id);
    RETURN QUERY
        SELECT w.weekday::int, w.opens_at, w.closes_at, booking.working_hours_version(p_barber_id)
          FROM booking.working_hours w
         WHERE w.barber_id = p_barber_id
         ORDER BY w.weekday, w.opens_at, w.closes_at;
END
$$;
