-- booking.shop_of_id(id) -> the shop a barber, service or appointment id belongs to
-- Ids carry their shop (migration 0011): id = shop_id * 2^40 + n, except in the default
-- shop 1, whose ids are below 2^40. The proxy routes every call by it (docs/SCALING.md);
-- the CHECK constraints *_id_carries_shop spell the same rule out for the planner.
-- Locks: none. Raises: nothing (NULL for NULL).
CREATE OR REPLACE FUNCTION booking.shop_of_id(p_id bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_id < 1099511627776 THEN 1 ELSE p_id >> 40 END;
