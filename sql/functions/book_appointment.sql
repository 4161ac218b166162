-- booking.book_appointment(barber, user, service, start, buffers, notes, idempotency key)
--   -> one row: the appointment's columns plus `replayed`
--
-- p_barber_id NULL books "any barber": booking.choose_barber() picks, by a documented fair
-- rule and under the locks of every candidate, a barber who offers the service and is free.
--
-- Guarantees, in one call and one transaction:
--   1. Idempotency: with p_idempotency_key, the first call records the request and its
--      result; a later call with the same key and the same request returns that first
--      result with replayed = true and creates nothing. Concurrent calls with one key
--      create one row (the second waits on the first's key row, then replays it).
--      Keys are kept for booking.idempotency_key_ttl, at least 24 hours.
--   2. Validation: known barber and service, a start not in the past, inside the
--      barber's working hours and not during time off, buffers of 0..1440 minutes, notes of at most 2000 characters.
--   3. Ordering: advisory locks per (barber, UTC day) serialise bookings that could
--      overlap (booking.take_slot_locks), bounded by booking.lock_timeout.
--   4. The buffer-aware overlap check (trigger check_appointment_overlap, which runs after
--      the lock in its own statement and so sees every booking committed while waiting)
--      and the exclusion constraint appointments_no_overlap, which holds at every
--      isolation level.
--   5. The insert, with version 1.
--
-- Locks: the idempotency key's row (when a key is given), then the advisory slot locks.
-- Raises: 23P01 slot_conflict, BK002 idempotency_key_mismatch, 55P03 lock_timeout,
--   BK003 barber_not_found, BK004 service_not_found, BK005 start_in_past,
--   BK006 barber_unavailable, BK008 invalid_argument; 40001/40P01 under
--   REPEATABLE READ/SERIALIZABLE races (transient: retry).
CREATE OR REPLACE FUNCTION booking.book_appointment(
    p_barber_id       bigint,
    p_user_id         bigint,
    p_service         text,
    p_start           timestamptz,
    p_buffer_before   int  DEFAULT 0,
    p_buffer_after    int  DEFAULT 0,
    p_notes           text DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL)
RETURNS TABLE (
    id                 bigint,
    barber_id          bigint,
    user_id            bigint,
    service_name       text,
    start_time         timestamptz,
    duration_minutes   int,
    buffer_time_before int,
    buffer_time_after  int,
    status             text,
    notes              text,
    version            int,
    created_at         timestamptz,
    updated_at         timestamptz,
    blocked_during     tstzrange,
    replayed           boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_request  jsonb;
    v_key      booking.idempotency_keys;
    v_duration int;
    v_timezone text;
    v_row      booking.appointments;
    v_barber_id bigint := p_barber_id;
BEGIN
    IF p_user_id IS NULL OR p_service IS NULL OR p_start IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_user_id, p_service and p_start are required.');
    END IF;
    IF NOT isfinite(p_start) OR p_start >= timestamptz '9999-12-31 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('p_start must be a real instant before 9999-12-31 (got %s).', p_start));
    END IF;
    IF p_buffer_before IS NULL OR p_buffer_before NOT BETWEEN 0 AND 1440
       OR p_buffer_after IS NULL OR p_buffer_after NOT BETWEEN 0 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Buffers must be whole minutes from 0 to 1440 (got %s before, %s after).',
                   coalesce(p_buffer_before::text, 'NULL'), coalesce(p_buffer_after::text, 'NULL')));
    END IF;
    IF length(p_notes) > 2000 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Notes may be at most 2000 characters (got %s).', length(p_notes)));
    END IF;
    IF p_idempotency_key IS NOT NULL AND length(p_idempotency_key) NOT BETWEEN 1 AND 255 THEN
        PERFORM booking.raise_error('invalid_argument', 'An idempotency key must be 1 to 255 characters.');
    END IF;

    -- 1. Idempotency. The instant is recorded as epoch seconds so that the same request
    -- sent from sessions with different TimeZone settings compares equal.
    IF p_idempotency_key IS NOT NULL THEN
        v_request := jsonb_build_object(
            'barber_id', p_barber_id, 'user_id', p_user_id, 'service', p_service,
            'start', extract(epoch FROM p_start), 'buffer_before', p_buffer_before,
            'buffer_after', p_buffer_after, 'notes', p_notes);
        -- Claim the key, or take over an expired one. A concurrent call with the same key
        -- waits here until the first commits (then replays) or rolls back (then claims).
        INSERT INTO booking.idempotency_keys AS k (idempotency_key, request, expires_at)
        VALUES (p_idempotency_key, v_request,
                now() + greatest(coalesce(nullif(current_setting('booking.idempotency_key_ttl', true), ''),
                                          '24 hours')::interval, interval '24 hours'))
        ON CONFLICT (idempotency_key) DO UPDATE
            SET request = EXCLUDED.request, appointment_id = NULL, result = NULL,
                created_at = now(), expires_at = EXCLUDED.expires_at
            WHERE k.expires_at <= now();
        IF NOT FOUND THEN
            SELECT * INTO v_key FROM booking.idempotency_keys k WHERE k.idempotency_key = p_idempotency_key;
            IF v_key.request IS DISTINCT FROM v_request THEN
                PERFORM booking.raise_error('idempotency_key_mismatch',
                    format('Key %s was first used with a different request.', quote_literal(p_idempotency_key)),
                    'Use a new idempotency key for a new request.');
            END IF;
            RETURN QUERY SELECT r.*, true FROM jsonb_populate_record(NULL::booking.appointments, v_key.result) AS r;
            RETURN;
        END IF;
    END IF;

    -- 2. Validation.
    SELECT s.duration_minutes INTO v_duration FROM booking.services s WHERE s.name = p_service;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('service_not_found', format('No service is named %s.', quote_literal(p_service)));
    END IF;
    IF p_start < now() THEN
        PERFORM booking.raise_error('start_in_past',
            format('%s is before the current time %s.', booking.rfc3339(p_start), booking.rfc3339(now())));
    END IF;
    IF v_barber_id IS NULL THEN
        -- "Any barber": the fair choice, made under the locks of every candidate.
        v_barber_id := booking.choose_barber(p_service, v_duration, p_start, p_buffer_before, p_buffer_after);
    END IF;
    SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = v_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', v_barber_id));
    END IF;
    PERFORM booking.assert_barber_available(v_barber_id, v_timezone, p_start, v_duration);

    -- 3. Serialise with every booking that could overlap this one.
    IF booking.application_checks_enabled() THEN
        PERFORM booking.take_slot_locks(ARRAY[v_barber_id],
            ARRAY[booking.blocked_interval(p_start, v_duration, p_buffer_before, p_buffer_after)]);
    END IF;

    -- 4 and 5. The trigger checks for an overlap in this statement; the constraint backs it.
    INSERT INTO booking.appointments AS a
        (barber_id, user_id, service_name, start_time, duration_minutes,
         buffer_time_before, buffer_time_after, notes)
    VALUES (v_barber_id, p_user_id, p_service, p_start, v_duration,
            p_buffer_before, p_buffer_after, p_notes)
    RETURNING a.* INTO v_row;

    IF p_idempotency_key IS NOT NULL THEN
        UPDATE booking.idempotency_keys k
           SET appointment_id = v_row.id, result = to_jsonb(v_row)
         WHERE k.idempotency_key = p_idempotency_key;
    END IF;

    RETURN QUERY SELECT (v_row).*, false;
END
$$;
