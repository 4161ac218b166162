-- booking.place_appointment(barber, user, service, start, buffers, notes, idempotency key, shop, hold)
--   -> one row of booking.appointment_records: the appointment's columns, its local date
--      and time, end_time, and `replayed`
--
-- The work of booking.book_appointment() (p_hold false: a scheduled appointment) and of
-- booking.hold_slot() (p_hold true: a hold, status 'held', which expires after the shop's
-- hold_minutes; booking.confirm_hold() turns it into the appointment). A hold is booked
-- exactly like an appointment: the same checks, locks, trigger and constraint, so a held
-- slot is taken for everyone until it expires. An idempotency key's request records which
-- of the two it was: a key used for a hold is refused (BK002) for a booking and back.
-- Not granted to anyone: callers use the two functions above.
--
-- p_barber_id NULL books "any barber of shop p_shop_id" (NULL: the default shop, 1):
-- booking.choose_barber() picks, by a documented fair rule and under the locks of the
-- candidates it ranks, a barber of that shop who offers the service and is free. With a
-- barber, the shop is the barber's (a p_shop_id that says otherwise is BK003); the service
-- is looked up among the shop's (names are unique per shop).
--
-- Buffers: p_buffer_before and p_buffer_after NULL (the HTTP service passes NULL for a
-- body without buffers; book_appointment's own defaults are the contract's 0) are the
-- barber's default for the service (booking.barber_service_buffers, which an admin
-- sets with booking.set_service_buffers, e.g. from a recommendation of app/learning), 0 when
-- it has none; read once, here, for the barber the appointment gets (for "any barber", each
-- candidate's own). Appointments booked before a default changed keep their buffers. An
-- idempotency key records a NULL buffer as 0 (as before defaults existed), so its
-- replay answers the first booking, with the buffers that booking got.
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
-- Locks: the idempotency key's advisory lock (with a key), the barber's schedule lock
-- shared (booking.lock_barber_schedule; a
-- schedule change, set_working_hours or add_time_off, holds it while it checks the
-- appointments), then the advisory slot locks.
-- Raises: 23P01 slot_conflict, BK002 idempotency_key_mismatch, 55P03 lock_timeout,
--   BK003 barber_not_found (also: not of shop p_shop_id), BK004 service_not_found (in the shop), BK005 start_in_past,
--   BK006 barber_unavailable, BK008 invalid_argument, BK013 service_not_offered,
--   BK023 policy_refused (a client outside the shop's notice or advance), 40001 serialization_failure.
CREATE OR REPLACE FUNCTION booking.place_appointment(
    p_barber_id       bigint,
    p_user_id         bigint,
    p_service         text,
    p_start           timestamptz,
    p_buffer_before   int  DEFAULT NULL,
    p_buffer_after    int  DEFAULT NULL,
    p_notes           text DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL,
    p_shop_id         bigint DEFAULT NULL,
    p_hold            boolean DEFAULT false)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Plans built once per session. PostgreSQL otherwise plans again, at every call, each
-- statement whose generic plan it guesses dearer than a custom one (generate_series over
-- a parameter, in booking.unavailability): 40% of a booking's time (docs/BENCHMARKS.md).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_request   jsonb;
    v_key       booking.idempotency_keys;
    v_duration  int;
    v_timezone  text;
    v_row       booking.appointments;
    v_out       booking.appointment_records;
    v_barber_id bigint := p_barber_id;
    v_barber_shop bigint;
    v_shop_id   bigint;
    v_constraint text;
    v_status    text := CASE WHEN p_hold THEN 'held' ELSE 'scheduled' END;
    v_expires   timestamptz;
    v_policy    boolean;
    v_service_id bigint;
    v_before    int := p_buffer_before;   -- the buffers the appointment gets (the defaults
    v_after     int := p_buffer_after;    -- when the caller gives none)
    v_default_before int;
    v_default_after  int;
BEGIN
    IF p_user_id IS NULL OR p_service IS NULL OR p_start IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_user_id, p_service and p_start are required.');
    END IF;
    IF NOT isfinite(p_start) OR p_start >= timestamptz '9999-12-31 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('The start must be a real instant before 9999-12-31 (got %s).', p_start));
    END IF;
    IF p_buffer_before NOT BETWEEN 0 AND 1440 OR p_buffer_after NOT BETWEEN 0 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Buffers must be whole minutes from 0 to 1440 (got %s before, %s after).',
                   coalesce(p_buffer_before::text, 'NULL'), coalesce(p_buffer_after::text, 'NULL')));
    END IF;
    IF length(p_notes) > 2000 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Notes may be at most 2000 characters (got %s).', length(p_notes)));
    END IF;

    -- 1. Idempotency. The instant is recorded as epoch seconds so that the same request
    -- sent from sessions with different TimeZone settings compares equal.
    IF p_idempotency_key IS NOT NULL THEN
        IF p_idempotency_key !~ '^[\x21-\x7e]{1,200}$' THEN
            PERFORM booking.raise_error('invalid_argument',
                format('An idempotency key is 1 to 200 printable ASCII characters without spaces (got %s).',
                       booking.shown(p_idempotency_key)));
        END IF;
        v_request := jsonb_build_object(
            'barber_id', p_barber_id, 'user_id', p_user_id, 'service', p_service,
            -- (a buffer not given is recorded as 0, as before defaults existed: a key's
            -- request reads the same whether its buffers were omitted or given as 0)
            'start', extract(epoch FROM p_start), 'buffer_before', coalesce(p_buffer_before, 0),
            'buffer_after', coalesce(p_buffer_after, 0), 'notes', p_notes)
            -- (keys recorded before shops carry no shop: the same request still matches)
            || CASE WHEN p_shop_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('shop_id', p_shop_id) END
            || CASE WHEN p_hold THEN '{"hold": true}'::jsonb ELSE '{}'::jsonb END;
        -- One caller per key at a time; a second one waits here, bounded, for the first to
        -- commit (then replays) or roll back (then books). The key's row is written once,
        -- with the result, at the end (one write per keyed booking, not an insert and an
        -- update): under this lock nobody else can write it meanwhile.
        PERFORM booking.take_locks(booking.lock_namespace('idempotency_key'),
            ARRAY[(hashtextextended(p_idempotency_key, p_user_id) >> 32)::int],
            format('Idempotency key %s', booking.shown(p_idempotency_key)));
        SELECT * INTO v_key FROM booking.idempotency_keys k
         WHERE k.user_id = p_user_id AND k.idempotency_key = p_idempotency_key AND k.expires_at > now();
        IF FOUND THEN
            IF v_key.request IS DISTINCT FROM v_request THEN
                PERFORM booking.raise_error('idempotency_key_mismatch',
                    format('Key %s was first used with a different request.', booking.shown(p_idempotency_key)),
                    'Use a new idempotency key for a new request.');
            END IF;
            -- The first answer, as stored (JSON whose instants carry their offset).
            v_out := jsonb_populate_record(NULL::booking.appointment_records, v_key.result);
            v_out.shop_id := coalesce(v_out.shop_id, 1);  -- answered before shops: the default shop
            v_out.replayed := true;
            RETURN NEXT v_out;
            RETURN;
        END IF;
    END IF;

    -- 2. Validation. The shop: the barber's, or the one named, or the default shop.
    IF p_barber_id IS NOT NULL THEN
        SELECT b.shop_id, b.timezone INTO v_barber_shop, v_timezone FROM booking.barbers b WHERE b.id = p_barber_id;
    END IF;
    v_shop_id := coalesce(v_barber_shop, p_shop_id, 1);
    -- The service, and whether the shop's booking policy limits when a client may book it.
    SELECT s.duration_minutes,
           coalesce(s.min_notice_minutes, h.min_notice_minutes) > 0
           OR coalesce(s.max_advance_days, h.max_advance_days) IS NOT NULL,
           s.id
      INTO v_duration, v_policy, v_service_id
      FROM booking.services s JOIN booking.shops h ON h.id = s.shop_id
     WHERE s.shop_id = v_shop_id AND s.name = p_service;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('service_not_found', format('No service is named %s%s.', booking.shown(p_service),
            CASE WHEN v_shop_id = 1 THEN '' ELSE ' in shop ' || v_shop_id END));
    END IF;
    IF p_start < now() THEN
        PERFORM booking.raise_error('start_in_past',
            format('%s is before the current time %s.', booking.rfc3339(p_start), booking.rfc3339(now())));
    END IF;
    IF v_barber_id IS NULL THEN
        -- "Any barber": the fair choice, made under the locks of the candidates it ranks.
        v_barber_id := booking.choose_barber(v_shop_id, p_service, v_duration, p_start, p_buffer_before, p_buffer_after);
        SELECT b.timezone INTO v_timezone FROM booking.barbers b WHERE b.id = v_barber_id;
    ELSIF v_barber_shop IS NULL OR v_barber_shop IS DISTINCT FROM coalesce(p_shop_id, v_barber_shop) THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s%s.', v_barber_id,
            CASE WHEN p_shop_id IS NULL THEN '' ELSE ' in shop ' || p_shop_id END));
    END IF;
    IF p_barber_id IS NOT NULL AND NOT booking.offers(v_barber_id, p_service) THEN
        PERFORM booking.raise_error('service_not_offered',
            format('Barber %s does not offer %s.', v_barber_id, booking.shown(p_service)));
    END IF;
    -- The buffers the caller did not give: the barber's default for the service, else 0.
    IF v_before IS NULL OR v_after IS NULL THEN
        SELECT d.buffer_time_before, d.buffer_time_after INTO v_default_before, v_default_after
          FROM booking.barber_service_buffers d WHERE d.barber_id = v_barber_id AND d.service_id = v_service_id;
        v_before := coalesce(v_before, v_default_before, 0);
        v_after := coalesce(v_after, v_default_after, 0);
    END IF;
    -- The barber's row, shared: a change of their working hours or time off (which updates
    -- it first) is either committed before the check below, which then sees it, or waits
    -- for this booking and then sees it (set_working_hours, add_time_off).
    PERFORM booking.lock_barber_schedule(v_barber_id);
    PERFORM booking.assert_barber_available(v_barber_id, v_timezone, p_start, v_duration);
    -- The shop's booking policy (notice, maximum advance) for a client; staff may override.
    IF v_policy THEN
        PERFORM booking.assert_start_allowed(v_shop_id, p_service, p_start, p_user_id, v_barber_id);
    END IF;

    -- 3. Serialise with every booking that could overlap this one.
    IF booking.application_checks_enabled() THEN
        PERFORM booking.take_slot_locks(ARRAY[v_barber_id],
            ARRAY[booking.blocked_interval(p_start, v_duration, v_before, v_after)]);
    END IF;

    IF p_hold THEN
        -- The clock is read once: a hold lasts the shop's hold_minutes from now().
        SELECT now() + make_interval(mins => s.hold_minutes) INTO v_expires FROM booking.shops s WHERE s.id = v_shop_id;
    END IF;

    -- 4 and 5. The trigger checks for an overlap in this statement; the constraint backs it.
    IF current_setting('transaction_isolation') = 'read committed' THEN
        INSERT INTO booking.appointments AS a
            (barber_id, shop_id, user_id, service_name, start_time, duration_minutes,
             buffer_time_before, buffer_time_after, notes, status, hold_expires_at)
        VALUES (v_barber_id, v_shop_id, p_user_id, p_service, p_start, v_duration,
                v_before, v_after, p_notes, v_status, v_expires)
        RETURNING a.* INTO v_row;
    ELSE
        -- A snapshot older than this statement: the trigger may not see the winner.
        BEGIN
            INSERT INTO booking.appointments AS a
                (barber_id, shop_id, user_id, service_name, start_time, duration_minutes,
                 buffer_time_before, buffer_time_after, notes, status, hold_expires_at)
            VALUES (v_barber_id, v_shop_id, p_user_id, p_service, p_start, v_duration,
                    v_before, v_after, p_notes, v_status, v_expires)
            RETURNING a.* INTO v_row;
        EXCEPTION WHEN exclusion_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint IS DISTINCT FROM 'appointments_no_overlap' THEN
                RAISE;                       -- the trigger's own 23P01, naming the appointment
            END IF;
            PERFORM booking.raise_snapshot_conflict(v_barber_id,
                booking.blocked_interval(p_start, v_duration, v_before, v_after));
        END;
    END IF;

    SELECT * INTO v_out FROM booking.appointment_records r WHERE r.id = v_row.id;
    IF p_idempotency_key IS NOT NULL THEN
        -- The key, with its answer; an expired row of the same key is taken over.
        INSERT INTO booking.idempotency_keys AS k
            (user_id, idempotency_key, request, appointment_id, result, expires_at)
        VALUES (p_user_id, p_idempotency_key, v_request, v_row.id, to_jsonb(v_out) - 'replayed',
                now() + booking.idempotency_key_ttl())
        ON CONFLICT (user_id, idempotency_key) DO UPDATE
            SET request = EXCLUDED.request, appointment_id = EXCLUDED.appointment_id, result = EXCLUDED.result,
                created_at = now(), expires_at = EXCLUDED.expires_at
            WHERE k.expires_at <= now();
        IF NOT FOUND THEN
            -- A live row this call's snapshot did not show (REPEATABLE READ or SERIALIZABLE,
            -- begun before the key's first use committed): retried, the call replays it.
            RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
                MESSAGE = format('Idempotency key %s was used by a transaction that committed after this one began.',
                                 booking.shown(p_idempotency_key)),
                HINT = 'Retry the call in a new transaction: it returns the first result.';
        END IF;
    END IF;
    RETURN NEXT v_out;
END
$$;
