-- booking.grant_staff_role(user, role, barber, shop, home partition) -> void
-- The staff side of a new token (booking.create_api_token): checks the arguments, and for
-- the barber and admin roles records the user's one staff role (booking.staff), which
-- update_appointment() and get_appointment() consult. A client token changes no role (a
-- staff user may also hold client tokens).
-- In a cluster the proxy runs it on every partition (docs/SCALING.md) with
-- p_home_partition, the partition of the role's shop: there the barber or shop must exist
-- and the role is recorded; on the others the user's role there is removed (a user holds
-- one role, in one shop), except for an admin of every shop, recorded on each. On one
-- database (p_home_partition NULL, or no partition membership) this is the home.
-- Locks: the user's staff row. Raises: BK008 invalid_argument, BK003 barber_not_found,
--   BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.grant_staff_role(
    p_user_id bigint, p_role text, p_barber_id bigint DEFAULT NULL, p_shop_id bigint DEFAULT NULL,
    p_home_partition int DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_here int := booking.this_partition();
BEGIN
    IF p_user_id IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'A token needs a user id.');
    END IF;
    IF p_role IS NULL OR p_role NOT IN ('client', 'barber', 'admin') THEN
        PERFORM booking.raise_error('invalid_argument', 'The role must be client, barber or admin.');
    END IF;
    IF (p_role = 'barber') <> (p_barber_id IS NOT NULL) THEN
        PERFORM booking.raise_error('invalid_argument', 'A barber token needs a barber id, and only a barber token has one.');
    END IF;
    IF p_shop_id IS NOT NULL AND p_role <> 'admin' THEN
        PERFORM booking.raise_error('invalid_argument',
            'Only an admin token is limited to a shop (a barber token is its barber''s shop''s).');
    END IF;
    IF p_role = 'client' THEN
        RETURN;
    END IF;
    IF p_role = 'admin' AND p_shop_id IS NULL THEN
        -- An admin of every shop: the same role on every partition.
        NULL;
    ELSIF p_home_partition IS NOT NULL AND v_here IS NOT NULL AND p_home_partition <> v_here THEN
        -- Another partition's shop: whatever role the user held here is gone.
        DELETE FROM booking.staff s WHERE s.user_id = p_user_id;
        RETURN;
    ELSIF p_shop_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM booking.shops s WHERE s.id = p_shop_id) THEN
        PERFORM booking.raise_error('shop_not_found', format('No shop has id %s.', p_shop_id));
    ELSIF p_barber_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM booking.barbers b WHERE b.id = p_barber_id) THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', p_barber_id));
    END IF;
    PERFORM booking.store_staff_role(p_user_id, p_role, p_barber_id, p_shop_id);
END
$$;
