-- booking.apply_changes(appointment, changes) -> the appointment with the changes applied
-- Reads update_appointment()'s p_changes into a new row, checking each value's form; it
-- decides nothing else (who may, the status machine, the past, working hours, overlap:
-- update_appointment does that with the row this returns). Keys:
--   start_time          RFC 3339 instant with offset, e.g. "2026-11-26T10:00:00Z"
--   booking_date        "YYYY-MM-DD", local to the (new) barber's time zone
--   booking_time        "HH:MM" (00:00 to 23:59; 24:00 is refused), local likewise; with
--                       only one of the two, the other is the appointment's current local
--                       date or time. Not with start_time.
--   barber_id           another barber of the same shop (BK003 otherwise)
--   buffer_time_before, buffer_time_after   whole minutes 0..1440
--   notes               text (at most 2000 characters) or null
--   status              one of the statuses of booking.status_transitions
-- Any other key is refused. The start must lie before 9999-12-31.
-- Locks: none. Raises: BK009 unknown_change_key, BK008 invalid_argument, BK003
-- barber_not_found, BK007 nonexistent_local_time.
CREATE OR REPLACE FUNCTION booking.apply_changes(p_old booking.appointments, p_changes jsonb)
RETURNS booking.appointments
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_keys CONSTANT text[] := ARRAY['start_time', 'booking_date', 'booking_time', 'barber_id',
                                    'buffer_time_before', 'buffer_time_after', 'notes', 'status'];
    v_new      booking.appointments := p_old;
    v_unknown  text;
    v_statuses text[];
    v_timezone text;
    v_local    timestamp;
    v_date     date;
    v_time     time;
BEGIN
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
        PERFORM booking.raise_error('invalid_argument', 'Give either start_time or booking_date/booking_time, not both.');
    END IF;

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
        SELECT array_agg(DISTINCT s ORDER BY s) INTO v_statuses
          FROM booking.status_transitions t, LATERAL (VALUES (t.from_status), (t.to_status)) AS v(s);
        v_new.status := booking.change_text(p_changes, 'status', '', 'a status');
        IF v_new.status <> ALL (v_statuses) THEN
            PERFORM booking.raise_error('invalid_argument',
                format('status must be one of %s (got %s).', array_to_string(v_statuses, ', '),
                       booking.shown(v_new.status)));
        END IF;
    END IF;

    IF v_new.barber_id IS DISTINCT FROM p_old.barber_id OR p_changes ? 'booking_date' OR p_changes ? 'booking_time' THEN
        -- A move stays in the appointment's shop (its services, its staff).
        SELECT b.timezone INTO v_timezone FROM booking.barbers b
         WHERE b.id = v_new.barber_id AND b.shop_id = p_old.shop_id;
        IF NOT FOUND THEN
            PERFORM booking.raise_error('barber_not_found', format('No barber has id %s%s.', v_new.barber_id,
                CASE WHEN p_old.shop_id = 1 THEN '' ELSE ' in shop ' || p_old.shop_id END));
        END IF;
    END IF;
    IF p_changes ? 'start_time' THEN
        v_new.start_time := booking.parse_instant('start_time', booking.change_text(p_changes, 'start_time', '', 'a string'));
    ELSIF p_changes ? 'booking_date' OR p_changes ? 'booking_time' THEN
        v_local := p_old.start_time AT TIME ZONE v_timezone;
        v_date := CASE WHEN p_changes ? 'booking_date'
                       THEN booking.parse_local_date('booking_date', booking.change_text(p_changes, 'booking_date', '', 'a string'))
                       ELSE v_local::date END;
        v_time := CASE WHEN p_changes ? 'booking_time'
                       THEN booking.parse_local_time('booking_time', booking.change_text(p_changes, 'booking_time', '', 'a string'))
                       ELSE v_local::time END;
        v_new.start_time := booking.local_to_utc(v_date + v_time, v_timezone);
    END IF;
    IF v_new.start_time >= timestamptz '9999-12-31 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('The start must be a real instant before 9999-12-31 (got %s).', v_new.start_time));
    END IF;
    RETURN v_new;
END
$$;
