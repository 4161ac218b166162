-- booking.finish_appointment(appointment, acting user, expected version)
--   -> one row of booking.appointment_records, status 'completed', finished_at set
-- Check-out: the appointment's barber (or an admin of its shop) marks a started
-- appointment finished. The order is enforced: only an appointment in progress
-- (booking.start_appointment) can be finished (BK010 otherwise: a scheduled one may still
-- be completed without times through update_appointment, as before, but that is not a
-- measured duration). Through update_appointment(), so the same row lock, actor rule
-- (the client who booked it: BK012; anyone else: BK011), version check and status machine
-- apply. finished_at is the database's clock when the call runs (the trigger
-- stamp_appointment_version); the table's CHECK keeps it at or after started_at. The
-- version grows by one (the change feed announces it). Finishing one that was finished
-- already returns it unchanged (a retried click is harmless).
-- Locks: the appointment's row (FOR UPDATE, bounded by booking.lock_timeout).
-- Raises: BK011 appointment_not_found, BK012 not_permitted, BK001 version_mismatch,
--   BK010 invalid_status_transition, BK008 invalid_argument, 55P03 lock_timeout.
CREATE OR REPLACE FUNCTION booking.finish_appointment(
    p_appointment_id   bigint,
    p_user_id          bigint,
    p_expected_version int DEFAULT NULL)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_row   booking.appointments;
    v_actor text;
BEGIN
    -- The row lock first (update_appointment takes it again, at no cost), so the status
    -- read here is the one the change applies to. A stranger, the client (who may not
    -- finish anything: BK012), a stale version or a bad argument are update_appointment's
    -- to refuse, in its order (BK011 before BK001).
    IF p_appointment_id IS NOT NULL AND p_user_id IS NOT NULL THEN
        v_row := booking.lock_appointment(p_appointment_id, format('Appointment %s', p_appointment_id));
        v_actor := booking.actor_role(p_user_id, v_row.user_id, v_row.barber_id);
        IF v_row.id IS NOT NULL AND v_actor IN ('barber', 'admin')
           AND (p_expected_version IS NULL OR p_expected_version = v_row.version)
           AND v_row.status <> 'in_progress'
           AND NOT (v_row.status = 'completed' AND v_row.finished_at IS NOT NULL) THEN
            PERFORM booking.raise_error('invalid_status_transition',
                format('Appointment %s is %s: only an appointment in progress can be finished.',
                       p_appointment_id, v_row.status),
                CASE WHEN v_row.status IN ('scheduled', 'confirmed')
                     THEN 'Start it first (booking.start_appointment).' END);
        END IF;
    END IF;
    RETURN QUERY
        SELECT * FROM booking.update_appointment(p_appointment_id, p_user_id,
                                                 '{"status": "completed"}'::jsonb, p_expected_version);
END
$$;
