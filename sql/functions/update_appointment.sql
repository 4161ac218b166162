-- booking.update_appointment(appointment, acting user, changes, expected version)
--   -> one row of booking.appointment_records: the appointment after the change
--
-- p_changes is a JSON object of the fields to change (booking.apply_changes says which
-- keys and forms: start_time, booking_date, booking_time, barber_id, buffer_time_before,
-- buffer_time_after, notes, status; any other key is refused).
--
-- Who may act (booking.actor_role, within booking.acting_role): the client who booked may
-- reschedule, change buffers and notes, and cancel; the appointment's barber and admins may
-- also make the status changes booking.status_transitions reserves to staff (confirm,
-- start, complete, no-show). Anyone else is told the appointment does not exist.
-- An appointment in progress (started: booking.start_appointment) may not be moved to
-- another barber or time any more (BK010); its notes and buffers may change. The times it
-- started and finished are stamped by the trigger stamp_appointment_version.
--
-- Guarantees: the change is applied to the current version atomically (row lock); with
-- p_expected_version it is applied only to that version; the version grows by one when
-- anything changes and not otherwise; the status moves only as booking.status_transitions
-- allows (booking.check_status_transition; a final status allows no change at all); a
-- change that moves the appointment re-checks the past, the offers rule, working hours,
-- time off and overlap exactly as book_appointment() does (and, like it, raises 40001 when
-- under REPEATABLE READ or SERIALIZABLE the constraint refuses a conflict the snapshot
-- cannot show).
--
-- Locks: the appointment's row (FOR UPDATE), a moved appointment's barber's schedule lock
-- shared (booking.lock_barber_schedule)
-- (ordered with set_working_hours and add_time_off), then the advisory slot locks of its old and
-- new barber and interval in ascending order (take_slot_locks); all bounded by
-- booking.lock_timeout.
-- Raises: BK011 appointment_not_found, BK001 version_mismatch, BK009 unknown_change_key,
--   BK008 invalid_argument, BK010 invalid_status_transition, BK012 not_permitted,
--   BK003 barber_not_found, BK005 start_in_past, BK006 barber_unavailable,
--   BK007 nonexistent_local_time, 23P01 slot_conflict, 55P03 lock_timeout, BK023 policy_refused (a client past a cut-off),
--   BK013 service_not_offered, 40001 serialization_failure.
CREATE OR REPLACE FUNCTION booking.update_appointment(
    p_appointment_id   bigint,
    p_user_id          bigint,
    p_changes          jsonb,
    p_expected_version int DEFAULT NULL)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Plans built once per session. PostgreSQL otherwise plans again, at every call, each
-- statement whose generic plan it guesses dearer than a custom one (generate_series over
-- a parameter, in booking.unavailability): 40% of a booking's time (docs/BENCHMARKS.md).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_old        booking.appointments;
    v_new        booking.appointments;
    v_actor      text;
    v_timezone   text;
    v_constraint text;
BEGIN
    IF p_appointment_id IS NULL OR p_user_id IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_appointment_id and p_user_id are required.');
    END IF;
    IF p_changes IS NULL OR jsonb_typeof(p_changes) <> 'object' THEN
        PERFORM booking.raise_error('invalid_argument', 'p_changes must be a JSON object.');
    END IF;

    -- The row lock, bounded like every other wait (booking.lock_appointment).
    v_old := booking.lock_appointment(p_appointment_id, format('Appointment %s', p_appointment_id));
    v_actor := booking.actor_role(p_user_id, v_old.user_id, v_old.barber_id);
    IF v_old.id IS NULL OR v_actor IS NULL THEN
        PERFORM booking.raise_error('appointment_not_found',
            format('No appointment %s is visible to user %s.', p_appointment_id, p_user_id));
    END IF;
    IF p_expected_version IS NOT NULL AND p_expected_version <> v_old.version THEN
        PERFORM booking.raise_error('version_mismatch',
            format('Expected version %s of appointment %s; the current version is %s.',
                   p_expected_version, p_appointment_id, v_old.version),
            'Read the appointment again and reapply the change.');
    END IF;

    v_new := booking.apply_changes(v_old, p_changes);
    IF v_old.status = 'held' AND v_new IS DISTINCT FROM v_old AND v_new.status <> 'cancelled' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Appointment %s is a hold: confirm it (booking.confirm_hold) or release it (cancel), not change it.',
                   p_appointment_id));
    END IF;
    IF v_new IS NOT DISTINCT FROM v_old THEN
        RETURN QUERY SELECT * FROM booking.appointment_records r WHERE r.id = v_old.id;   -- same version
        RETURN;
    END IF;
    PERFORM booking.check_status_transition(v_old.id, v_old.status, v_new.status, v_actor);
    IF v_old.status = 'in_progress'
       AND (v_new.barber_id, v_new.start_time) IS DISTINCT FROM (v_old.barber_id, v_old.start_time) THEN
        PERFORM booking.raise_error('invalid_status_transition',
            format('Appointment %s is in progress (started %s): it can no longer be moved.',
                   p_appointment_id, booking.rfc3339(v_old.started_at)),
            'Finish it (booking.finish_appointment), then book the next one.');
    END IF;
    -- The shop's booking policy: a client's cut-offs and window (staff may override).
    PERFORM booking.assert_change_allowed(v_old, v_new, v_actor);

    -- A move is checked like a new booking.
    IF v_new.status NOT IN ('cancelled', 'no_show', 'expired')
       AND (v_new.barber_id, v_new.start_time, v_new.buffer_time_before, v_new.buffer_time_after)
           IS DISTINCT FROM (v_old.barber_id, v_old.start_time, v_old.buffer_time_before, v_old.buffer_time_after) THEN
        IF v_new.start_time IS DISTINCT FROM v_old.start_time AND v_new.start_time < now() THEN
            PERFORM booking.raise_error('start_in_past',
                format('%s is before the current time %s.', booking.rfc3339(v_new.start_time), booking.rfc3339(now())));
        END IF;
        IF v_new.barber_id IS DISTINCT FROM v_old.barber_id AND NOT booking.offers(v_new.barber_id, v_old.service_name) THEN
            PERFORM booking.raise_error('service_not_offered',
                format('Barber %s does not offer %s.', v_new.barber_id, booking.shown(v_old.service_name)));
        END IF;
        IF (v_new.barber_id, v_new.start_time) IS DISTINCT FROM (v_old.barber_id, v_old.start_time) THEN
            -- Ordered with a change of that barber's hours or time off (as in
            -- place_appointment: booking.lock_barber_schedule).
            PERFORM booking.lock_barber_schedule(v_new.barber_id);
            SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = v_new.barber_id;
            PERFORM booking.assert_barber_available(v_new.barber_id, v_timezone, v_new.start_time, v_new.duration_minutes);
        END IF;
        IF booking.application_checks_enabled() THEN
            PERFORM booking.take_slot_locks(
                ARRAY[v_old.barber_id, v_new.barber_id],
                ARRAY[v_old.blocked_during,
                      booking.blocked_interval(v_new.start_time, v_new.duration_minutes,
                                               v_new.buffer_time_before, v_new.buffer_time_after)]);
        END IF;
    END IF;

    -- The trigger re-checks the overlap in this statement and bumps the version. Under
    -- REPEATABLE READ or SERIALIZABLE a conflict the snapshot cannot show is 40001 (see
    -- book_appointment()).
    IF current_setting('transaction_isolation') = 'read committed' THEN
        UPDATE booking.appointments a
           SET barber_id = v_new.barber_id, start_time = v_new.start_time,
               buffer_time_before = v_new.buffer_time_before, buffer_time_after = v_new.buffer_time_after,
               notes = v_new.notes, status = v_new.status, changed_by = p_user_id
         WHERE a.id = v_old.id;
    ELSE
        BEGIN
            UPDATE booking.appointments a
               SET barber_id = v_new.barber_id, start_time = v_new.start_time,
                   buffer_time_before = v_new.buffer_time_before, buffer_time_after = v_new.buffer_time_after,
                   notes = v_new.notes, status = v_new.status, changed_by = p_user_id
             WHERE a.id = v_old.id;
        EXCEPTION WHEN exclusion_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint IS DISTINCT FROM 'appointments_no_overlap' THEN
                RAISE;
            END IF;
            PERFORM booking.raise_snapshot_conflict(v_new.barber_id,
                booking.blocked_interval(v_new.start_time, v_new.duration_minutes,
                                         v_new.buffer_time_before, v_new.buffer_time_after));
        END;
    END IF;
    RETURN QUERY SELECT * FROM booking.appointment_records r WHERE r.id = v_old.id;
END
$$;
