-- booking.slot_lock_key(barber, UTC day number) -> int
-- The second key of the slot lock of one barber on one UTC day (days counted from
-- 1970-01-01): a 32-bit hash of both. Two (barber, day) pairs may share a key; that only
-- makes their bookings wait for each other, it never lets two overlapping bookings miss
-- each other (they always compute the same key for their shared day).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.slot_lock_key(p_barber_id bigint, p_day int)
RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT (pg_catalog.hashint8extended(p_barber_id, p_day) >> 32)::int $$;
