-- booking.hold_slot(barber, user, service, start, buffers, notes, idempotency key, shop)
--   -> one row of booking.appointment_records: the hold (status 'held', hold_expires_at)
--
-- Takes the slot for p_user_id while they pay or decide: exactly booking.book_appointment()
-- (the same arguments, checks, locks, trigger and constraint: a held slot conflicts like an
-- active appointment, 23P01 naming the hold), but the row is a hold that lasts the shop's
-- hold_minutes (booking.shops, 5 unless changed). booking.confirm_hold() makes it the
-- appointment; cancel_appointment() releases it; once expired it blocks nobody (the overlap
-- trigger turns it into 'expired' when a write would meet it, and availability skips it),
-- with no sweeper. Holds count against nothing once expired or confirmed. Buffers given
-- as NULL are the barber's default for the service, as for a booking.
-- Locks: those of booking.book_appointment() (booking.place_appointment()).
-- Raises: those of booking.book_appointment(), and BK002 for a key first used for a booking.
CREATE OR REPLACE FUNCTION booking.hold_slot(
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
        p_buffer_after, p_notes, p_idempotency_key, p_shop_id, true);
END
$$;
