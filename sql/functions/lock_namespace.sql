-- booking.lock_namespace(kind) -> int
-- The first key of every advisory lock the engine takes. PostgreSQL has one advisory-lock
-- key space per database, shared with any other code there; the engine uses only the
-- two-integer form, pg_advisory_xact_lock(namespace, key), with a namespace of its own,
-- so it never waits for (or blocks) someone else's locks that use another first integer
-- or the one-bigint form. 0x424B00nn reads "BK" and a kind:
--   slot             0x424B0001  (barber, UTC day) slot locks, key = booking.slot_lock_key()
--   idempotency_key  0x424B0002  one acting user's idempotency key, key = a hash of both
--   migrate          0x424B0003  `python -m app migrate`, key 0: one migration at a time
--   demo_data        0x424B0004  `python -m app demo-data`, key 0
--   change_feed      0x424B0005  key 0: one relay of the change feed at a time
--                                (booking.relay_change_feed), key 1: the relay's leader
--                                (a session lock held by one service process)
--   shop             0x424B0006  a cluster proxy's routed calls of one shop (shared) and the
--                                shop's move (exclusive), key = the shop id (sql/proxy/)
--   barber_schedule  0x424B0007  bookings of a barber (shared) and changes of its hours or
--                                time off (exclusive), key = hashint8(barber id)
--                                (booking.lock_barber_schedule)
-- In pg_locks they show as locktype 'advisory', classid = the namespace, objid = the
-- key, objsubid = 2.
-- Locks: none. Raises: BK008 invalid_argument for an unknown kind.
CREATE OR REPLACE FUNCTION booking.lock_namespace(p_kind text)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE p_kind
               WHEN 'slot' THEN 1112211457
               WHEN 'idempotency_key' THEN 1112211458
               WHEN 'migrate' THEN 1112211459
               WHEN 'demo_data' THEN 1112211460
               WHEN 'change_feed' THEN 1112211461
               WHEN 'shop' THEN 1112211462
               WHEN 'barber_schedule' THEN 1112211463
           END
$$;
