-- booking.start_appointment(appointment, acting user, expected version)
--   -> one row of booking.appointment_records, status 'in_progress', started_at set
-- Check-in: the appointment's barber (or an admin of its shop) marks it started. Through
-- update_appointment(), so the same row lock, actor rule, version check and status machine
-- apply: only staff may (booking.status_transitions: scheduled or confirmed ->
-- in_progress; the client who booked it gets BK012, anyone else BK011); a cancelled,
-- completed or no-show appointment cannot be started (BK010), nor a hold (BK008: confirm it
-- first, as for any change of a hold). started_at is the
-- database's clock when the call runs (the trigger stamp_appointment_version), never a
-- client's. The version grows by one, so the change feed announces it ('changed') and
-- If-Match applies. Starting one that is in progress already returns it unchanged (a
-- retried click is harmless). An appointment in progress keeps blocking its slot (it is
-- active) and can no longer be moved.
-- Locks: the appointment's row (FOR UPDATE, bounded by booking.lock_timeout).
-- Raises: BK011 appointment_not_found, BK012 not_permitted, BK001 version_mismatch,
--   BK010 invalid_status_transition, BK008 invalid_argument, 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking.start_appointment(
    p_appointment_id   bigint,
    p_user_id          bigint,
    p_expected_version int DEFAULT NULL)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
        SELECT * FROM booking.update_appointment(p_appointment_id, p_user_id,
                                                 '{"status": "in_progress"}'::jsonb, p_expected_version);
END
$$;
