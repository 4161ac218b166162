-- booking.update_appointment(appointment, acting user, changes, expected version)
--   -> one row: the appointment's columns after the change
--
-- p_changes is a JSON object with any of these keys (any other key is refused):
--   start_time          RFC 3339 instant with offset, e.g. "2026-11-26T10:00:00Z"
--   booking_date        "YYYY-MM-DD", local to the (new) barber's time zone
--   booking_time        "HH:MM" (00:00 to 23:59; 24:00 is refused), local likewise; with
--                       only one of the two, the other is the appointment's current local
--                       date or time. Not with start_time.
--   barber_id           move to another barber (who must offer the service: booking.offers)
--   buffer_time_before, buffer_time_after   whole minutes 0..1440
--   notes               text (at most 2000 characters) or null
--   status              scheduled -> confirmed | completed | cancelled | no_show;
--                       confirmed -> completed | cancelled | no_show; the last three are final.
--
-- Who may act (booking.actor_role): the client who booked may reschedule, change buffers
-- and notes, and cancel; the appointment's barber and admins may also confirm, complete and
-- mark a no-show. Anyone else is told the appointment does not exist.
--
-- Guarantees: the change is applied to the current version atomically (row lock); with
-- p_expected_version it is applied only to that version; the version grows by one when
-- anything changes and not otherwise; a change that moves the appointment re-checks the
-- past, working hours, time off and overlap exactly as book_appointment() does (and, like
-- it, raises 40001 when under REPEATABLE READ or SERIALIZABLE the constraint refuses a
-- conflict the snapshot cannot show).
--
-- Locks: the appointment's row (FOR UPDATE), then the advisory slot locks of its old and
-- new barber and interval in ascending order (take_slot_locks); all bounded by
-- booking.lock_timeout.
-- Raises: BK011 appointment_not_found, BK001 version_mismatch, BK009 unknown_change_key,
--   BK008 invalid_argument, BK010 invalid_status_transition, BK012 not_permitted,
--   BK003 barber_not_found, BK005 start_in_past, BK006 barber_unavailable,
--   BK007 nonexistent_local_time, 23P01 slot_conflict, 55P03 lock_timeout,
--   BK013 service_not_offered, 40001 serialization_failure.
CREATE OR REPLACE FUNCTION booking.update_appointment(
    p_appointment_id   bigint,
    p_user_id          bigint,
    p_changes          jsonb,
    p_expected_version int DEFAULT NULL)
RETURNS SETOF booking.appointments
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_keys CONSTANT text[] := ARRAY['start_time', 'booking_date', 'booking_time', 'barber_id',
                                    'buffer_time_before', 'buffer_time_after', 'notes', 'status'];
    c_final CONSTANT text[] := ARRAY['completed', 'cancelled', 'no_show'];
    v_unknown  text;
    v_old      booking.appointments;
    v_new      booking.appointments;
    v_actor    text;
    v_timezone text;
    v_local    timestamp;
    v_date     date;
    v_time     time;
    v_previous_lock_timeout CONSTANT text := current_setting('lock_timeout');
    v_lock_timeout text;
    v_constraint text;
BEGIN
    IF p_appointment_id IS NULL OR p_user_id IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_appointment_id and p_user_id are required.');
    END IF;
    IF p_changes IS NULL OR jsonb_typeof(p_changes) <> 'object' THEN
        PERFORM booking.raise_error('invalid_argument', 'p_changes must be a JSON object.');
    END IF;
    SELECT k INTO v_unknown FROM jsonb_object_keys(p_changes) AS k WHERE k <> ALL (c_keys) ORDER BY k LIMIT 1;
    IF v_unknown IS NOT NULL THEN
        PERFORM booking.raise_error('unknown_change_key',
            format('%s cannot be changed; the fields that can are %s.', booking.shown(v_unknown),
                   array_to_string(c_keys, ', ')));
    END IF;
    IF p_changes ? 'start_time' AND (p_changes ? 'booking_date' OR p_changes ? 'booking_time') THEN
        PERFORM booking.raise_error('invalid_argument',
            'Give either start_time or booking_date/booking_time, not both.');
    END IF;

    -- The row lock, bounded like every other wait. Under READ COMMITTED a concurrent
    -- change makes this wait and then read the newest version.
    v_lock_timeout := booking.lock_timeout();
    BEGIN
        PERFORM set_config('lock_timeout', v_lock_timeout, true);
        SELECT * INTO v_old FROM booking.appointments a WHERE a.id = p_appointment_id FOR UPDATE;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM booking.raise_error('lock_timeout',
            format('Appointment %s was held by another change for longer than booking.lock_timeout (%s).',
                   p_appointment_id, v_lock_timeout),
            'Retry the request.');
    END;
    PERFORM set_config('lock_timeout', v_previous_lock_timeout, true);
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

    -- Build the new row from the changes.
    v_new := v_old;
    IF p_changes ? 'barber_id' THEN
        v_new.barber_id := booking.change_integer(p_changes, 'barber_id', 1, 9223372036854775807);
    END IF;
    IF p_changes ? 'buffer_time_before' THEN
        v_new.buffer_time_before := booking.change_integer(p_changes, 'buffer_time_before', 0, 1440);
    END IF;
    IF p_changes ? 'buffer_time_after' THEN
        v_new.buffer_time_after := booking.change_integer(p_changes, 'buffer_time_after', 0, 1440);
    END IF;
    IF p_changes ? 'notes' THEN
        IF jsonb_typeof(p_changes -> 'notes') = 'null' THEN
            v_new.notes := NULL;
        ELSE
            v_new.notes := booking.change_text(p_changes, 'notes', '', 'text or null');
            IF length(v_new.notes) > 2000 THEN
                PERFORM booking.raise_error('invalid_argument',
                    format('Notes may be at most 2000 characters (got %s).', length(v_new.notes)));
            END IF;
        END IF;
    END IF;
    IF p_changes ? 'status' THEN
        v_new.status := booking.change_text(p_changes, 'status',
            '^(scheduled|confirmed|completed|cancelled|no_show)$',
            'one of scheduled, confirmed, completed, cancelled, no_show');
    END IF;
    IF v_new.barber_id IS DISTINCT FROM v_old.barber_id OR p_changes ? 'booking_date' OR p_changes ? 'booking_time' THEN
        SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = v_new.barber_id;
        IF NOT FOUND THEN
            PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', v_new.barber_id));
        END IF;
    END IF;
    IF v_new.barber_id IS DISTINCT FROM v_old.barber_id AND NOT booking.offers(v_new.barber_id, v_old.service_name) THEN
        PERFORM booking.raise_error('service_not_offered',
            format('Barber %s does not offer %s.', v_new.barber_id, booking.shown(v_old.service_name)));
    END IF;
    IF p_changes ? 'start_time' THEN
        v_new.start_time := booking.parse_instant('start_time', booking.change_text(p_changes, 'start_time', '', 'a string'));
    ELSIF p_changes ? 'booking_date' OR p_changes ? 'booking_time' THEN
        v_local := v_old.start_time AT TIME ZONE v_timezone;
        BEGIN
            IF p_changes ? 'booking_date' THEN
                v_date := booking.change_text(p_changes, 'booking_date', '^\d{4}-\d{2}-\d{2}$', 'a date YYYY-MM-DD')::date;
            ELSE
                v_date := v_local::date;
            END IF;
            IF p_changes ? 'booking_time' THEN
                v_time := booking.change_text(p_changes, 'booking_time', '^\d{2}:\d{2}(:\d{2})?$', 'a time HH:MM')::time;
            ELSE
                v_time := v_local::time;
            END IF;
        EXCEPTION WHEN data_exception THEN
            PERFORM booking.raise_error('invalid_argument',
                format('%s is not a real date and time.',
                       booking.shown(concat_ws(' ', p_changes ->> 'booking_date', p_changes ->> 'booking_time'))));
        END;
        PERFORM booking.check_local_date('booking_date', v_date);
        PERFORM booking.check_local_time('booking_time', v_time);
        v_new.start_time := booking.local_to_utc(v_date + v_time, v_timezone);
    END IF;
    IF v_new.start_time >= timestamptz '9999-12-31 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('The start must be a real instant before 9999-12-31 (got %s).', v_new.start_time));
    END IF;

    IF v_new IS NOT DISTINCT FROM v_old THEN
        RETURN NEXT v_old;              -- nothing to change: same row, same version
        RETURN;
    END IF;

    -- Status rules.
    IF v_old.status = ANY (c_final) THEN
        PERFORM booking.raise_error('invalid_status_transition',
            format('Appointment %s is %s and can no longer be changed.', v_old.id, v_old.status));
    END IF;
    IF v_new.status <> v_old.status THEN
        IF NOT ((v_old.status = 'scheduled' AND v_new.status IN ('confirmed', 'completed', 'cancelled', 'no_show'))
             OR (v_old.status = 'confirmed' AND v_new.status IN ('completed', 'cancelled', 'no_show'))) THEN
            PERFORM booking.raise_error('invalid_status_transition',
                format('An appointment that is %s cannot become %s.', v_old.status, v_new.status));
        END IF;
        IF v_actor = 'owner' AND v_new.status <> 'cancelled' THEN
            PERFORM booking.raise_error('not_permitted',
                format('Only the barber or an admin may mark an appointment %s.', v_new.status));
        END IF;
    END IF;

    -- A move is checked like a new booking.
    IF v_new.status <> ALL (ARRAY['cancelled', 'no_show'])
       AND (v_new.barber_id, v_new.start_time, v_new.buffer_time_before, v_new.buffer_time_after)
           IS DISTINCT FROM (v_old.barber_id, v_old.start_time, v_old.buffer_time_before, v_old.buffer_time_after) THEN
        IF v_new.start_time IS DISTINCT FROM v_old.start_time AND v_new.start_time < now() THEN
            PERFORM booking.raise_error('start_in_past',
                format('%s is before the current time %s.', booking.rfc3339(v_new.start_time), booking.rfc3339(now())));
        END IF;
        IF (v_new.barber_id, v_new.start_time) IS DISTINCT FROM (v_old.barber_id, v_old.start_time) THEN
            IF v_timezone IS NULL THEN
                SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = v_new.barber_id;
            END IF;
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
               notes = v_new.notes, status = v_new.status
         WHERE a.id = v_old.id
        RETURNING a.* INTO v_new;
    ELSE
        BEGIN
            UPDATE booking.appointments a
               SET barber_id = v_new.barber_id, start_time = v_new.start_time,
                   buffer_time_before = v_new.buffer_time_before, buffer_time_after = v_new.buffer_time_after,
                   notes = v_new.notes, status = v_new.status
             WHERE a.id = v_old.id
            RETURNING a.* INTO v_new;
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
    RETURN NEXT v_new;
END
$$;
