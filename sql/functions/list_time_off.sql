-- booking.list_time_off(barber, actor, after) -> the barber's time off that ends after
-- p_after (NULL: now()), oldest first, at most 500 rows.
-- For staff: p_actor_user_id as booking.assert_barber_staff (an admin of the barber's shop,
-- or that barber: reasons are private to them).
-- Locks: none. Raises: BK003 barber_not_found, BK014, BK012 not_permitted.
CREATE OR REPLACE FUNCTION booking.list_time_off(
    p_barber_id bigint, p_actor_user_id bigint DEFAULT NULL, p_after timestamptz DEFAULT NULL)
RETURNS SETOF booking.time_off
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM booking.assert_barber_staff(p_barber_id, p_actor_user_id);
    RETURN QUERY
        SELECT t.* FROM booking.time_off t
         WHERE t.barber_id = p_barber_id AND upper(t.during) > coalesce(p_after, now())
         ORDER BY lower(t.during), t.id
         LIMIT 500;
END
$$;
