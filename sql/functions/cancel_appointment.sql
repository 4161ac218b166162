-- booking.cancel_appointment(appointment, acting user, expected version)
--   -> one row of booking.appointment_records, status 'cancelled'
-- Cancels through update_appointment(), so the same row lock, actor rule, version check
-- and status rules apply; the slot is free again as soon as this commits. Cancelling an
-- appointment that is already cancelled returns it unchanged (a retried cancel is harmless).
-- Locks: the appointment's row. Raises: BK011 appointment_not_found, BK001 version_mismatch,
--   BK010 invalid_status_transition (completed or no-show), 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking.cancel_appointment(
    p_appointment_id   bigint,
    p_user_id          bigint,
    p_expected_version int DEFAULT NULL)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Plans built once per session. PostgreSQL otherwise plans again, at every call, each
-- statement whose generic plan it guesses dearer than a custom one (generate_series over
-- a parameter, in booking.unavailability): 40% of a booking's time (docs/BENCHMARKS.md).
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
        SELECT * FROM booking.update_appointment(p_appointment_id, p_user_id,
                                                 '{"status": "cancelled"}'::jsonb, p_expected_version);
END
$$;
