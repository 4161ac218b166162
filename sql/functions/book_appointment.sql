-- booking.book_appointment(barber, user, service, start, buffers, notes, idempotency key, shop)
--   -> one row of booking.appointment_records: the appointment's columns, its local date
--      and time, end_time, and `replayed`
--
-- The work is booking.place_appointment(..., p_hold => false), whose header says the rest;
-- booking.hold_slot() is the same call for a hold.
--
-- p_barber_id NULL books "any barber of shop p_shop_id" (NULL: the default shop, 1):
-- booking.choose_barber() picks, by a documented fair rule and under the locks of the
-- candidates it ranks, a barber of that shop who offers the service and is free. With a
-- barber, the shop is the barber's (a p_shop_id that says otherwise is BK003); the service
-- is looked up among the shop's (names are unique per shop).
--
-- Buffers given as NULL are the barber's default for the service
-- (booking.barber_service_buffers, set by an admin with booking.set_service_buffers), 0
-- when it has none (booking.place_appointment); omitted, they are 0 (the contract's default;
-- the HTTP service passes NULL for a body without them).
--
-- Guarantees, in one call and one transaction:
--   1. Idempotency: an idempotency key belongs to the acting user (p_user_id): two users
--      never share one. With p_idempotency_key, the first call records the request and
--      its result; a later call of the same user with the same key and the same request
--      returns that first result with replayed = true and creates nothing, whatever the
--      session's DateStyle or TimeZone (the result is stored as JSON whose instants carry
--      their offset, and no range text), and even
--      after the appointment was changed or cancelled (a replay repeats the first answer,
--      as the IETF Idempotency-Key draft and Stripe do). Concurrent calls with one key
--      create one row: the second waits for the first on the key's advisory lock, bounded
--      by booking.lock_timeout, then replays it (under REPEATABLE READ, when its snapshot
--      is older than the first's commit: 40001, and the retry replays). The key's row is
--      written once, with the answer, after the appointment. Keys are kept for
--      booking.idempotency_key_ttl(), at least 24 hours.
--   2. Validation: known barber and service, a barber who offers the service
--      (booking.offers), a start not in the past and before
--      9999-12-31, inside the barber's working hours and not during time off, buffers of
--      0..1440 minutes, notes of at most 2000 characters, a key of 1 to 200 printable
--      ASCII characters.
--   3. Ordering: advisory locks per (barber, UTC day) serialise bookings that could
--      overlap (booking.take_slot_locks), bounded by booking.lock_timeout.
--   4. The buffer-aware overlap check (trigger check_appointment_overlap, which runs after
--      the lock in its own statement and so sees every booking committed while waiting)
--      and the exclusion constraint appointments_no_overlap, which holds at every
--      isolation level.
--   5. The insert, with version 1.
--
-- Isolation: under READ COMMITTED (the default) a refused overlap is always 23P01 naming
-- the conflicting appointment. Under REPEATABLE READ or SERIALIZABLE the transaction's
-- snapshot may not show an appointment committed after it began; when the exclusion
-- constraint then refuses the row, the error is 40001 serialization_failure (as PostgreSQL
-- itself reports unique violations under SERIALIZABLE): retried in a new transaction, the
-- booking gets the usual 23P01 naming the winner.
--
-- Locks: the idempotency key's advisory lock (with a key), then the advisory slot locks.
-- Raises: 23P01 slot_conflict, BK002 idempotency_key_mismatch, 55P03 lock_timeout,
--   BK003 barber_not_found (also: not of shop p_shop_id), BK004 service_not_found (in the shop), BK005 start_in_past,
--   BK006 barber_unavailable, BK008 invalid_argument, BK013 service_not_offered,
--   40001 serialization_failure.
CREATE OR REPLACE FUNCTION booking.book_appointment(
    p_barber_id       bigint,
    p_user_id         bigint,
    p_service         text,
    p_start           timestamptz,
    p_buffer_before   int  DEFAULT 0,
    p_buffer_after    int  DEFAULT 0,
    p_notes           text DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL,
    p_shop_id         bigint DEFAULT NULL)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT * FROM booking.place_appointment(p_barber_id, p_user_id, p_service, p_start, p_buffer_before,
        p_buffer_after, p_notes, p_idempotency_key, p_shop_id, false);
END
$$;
