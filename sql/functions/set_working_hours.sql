-- booking.set_working_hours(barber, hours, actor, force, expected version) -> the barber's
-- new working hours
-- Replaces all of the barber's working hours with p_hours, a JSON array of
--   {"weekday": 1..7 (ISO, 1 = Monday), "opens_at": "HH:MM", "closes_at": "HH:MM"}
-- in the barber's local time; several rows a day make shifts; a closes_at not after its
-- opens_at ends the next day ("22:00"-"02:00"; "00:00" closes at midnight); [] means no
-- rows at all, which the engine reads as bookable at any time. Appointments already booked
-- are not touched: new hours that would leave active appointments that have not ended
-- outside the working time are refused, naming them (booking.assert_no_stranded_appointments,
-- BK019), unless p_force. p_expected_version (the If-Match of PUT .../working-hours): the
-- change applies only when booking.working_hours_version() is still that (BK001 otherwise).
-- p_actor_user_id: booking.assert_shop_admin for the barber's shop.
-- Concurrency: the barber's schedule lock is taken exclusively first
-- (booking.lock_barber_schedule: bookings and moves of this barber take it shared before
-- they check availability, or under REPEATABLE READ lock the barber's row, which it
-- updates). A booking checked against the old hours has therefore committed before
-- this call goes on, and its check below sees it (READ COMMITTED: every statement a new
-- snapshot); a booking that comes after waits for this transaction and checks the new hours
-- (under REPEATABLE READ it gets 40001 instead, and its retry checks the new hours).
-- Two replacements of one barber's hours queue.
-- Locks: the barber's schedule lock, exclusive, and its row (a no-op UPDATE).
-- Raises: BK003 barber_not_found, BK014, BK012 not_permitted, BK001 version_mismatch,
--   BK019 schedule_conflict, BK008 invalid_argument (not an array, over 100 rows, an
--   unknown key, a weekday outside 1..7, a time not HH:MM, opens = closes, a NULL force).
CREATE OR REPLACE FUNCTION booking.set_working_hours(
    p_barber_id bigint, p_hours jsonb, p_actor_user_id bigint DEFAULT NULL, p_force boolean DEFAULT false,
    p_expected_version bigint DEFAULT NULL)
RETURNS SETOF booking.working_hours
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop_id bigint;
    v_item    jsonb;
    v_i       int := 0;
    v_weekday int;
    v_opens   time;
    v_closes  time;
BEGIN
    SELECT b.shop_id INTO v_shop_id FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    PERFORM booking.assert_shop_admin(v_shop_id, p_actor_user_id);
    IF p_force IS NULL THEN
        PERFORM booking.raise_error('invalid_argument', 'p_force is true or false (got NULL).');
    END IF;
    -- The lock bookings of this barber wait for (see the header and the function's).
    PERFORM booking.lock_barber_schedule(p_barber_id, true);
    IF p_expected_version IS NOT NULL AND p_expected_version <> booking.working_hours_version(p_barber_id) THEN
        PERFORM booking.raise_error('version_mismatch',
            format('The working hours of barber %s are at version %s, not %s.', p_barber_id,
                   booking.working_hours_version(p_barber_id), p_expected_version));
    END IF;
    IF p_hours IS NULL OR jsonb_typeof(p_hours) <> 'array' THEN
        PERFORM booking.raise_error('invalid_argument', 'Working hours are a JSON array of {weekday, opens_at, closes_at}.');
    END IF;
    IF jsonb_array_length(p_hours) > 100 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('At most 100 rows of working hours (got %s).', jsonb_array_length(p_hours)));
    END IF;
    DELETE FROM booking.working_hours w WHERE w.barber_id = p_barber_id;
    FOR v_item IN SELECT e FROM jsonb_array_elements(p_hours) AS e LOOP
        v_i := v_i + 1;
        IF jsonb_typeof(v_item) <> 'object' OR EXISTS (
               SELECT 1 FROM jsonb_object_keys(v_item) k WHERE k NOT IN ('weekday', 'opens_at', 'closes_at')) THEN
            PERFORM booking.raise_error('invalid_argument',
                format('Row %s of the working hours must be an object with weekday, opens_at and closes_at only.', v_i));
        END IF;
        IF jsonb_typeof(v_item->'weekday') <> 'number' OR (v_item->>'weekday') !~ '^[1-7]$' THEN
            PERFORM booking.raise_error('invalid_argument',
                format('Row %s: weekday must be 1 (Monday) to 7 (Sunday) (got %s).', v_i,
                       booking.shown(v_item->>'weekday')));
        END IF;
        v_weekday := (v_item->>'weekday')::int;
        v_opens := booking.parse_local_time(format('Row %s: opens_at', v_i), v_item->>'opens_at');
        v_closes := booking.parse_local_time(format('Row %s: closes_at', v_i), v_item->>'closes_at');
        IF v_opens = v_closes THEN
            PERFORM booking.raise_error('invalid_argument',
                format('Row %s: a shift opens and closes at different times (got %s to %s).', v_i, v_opens, v_closes));
        END IF;
        INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)
        VALUES (p_barber_id, v_weekday, v_opens, v_closes);
    END LOOP;
    PERFORM booking.assert_no_stranded_appointments(p_barber_id, tstzrange(now(), NULL), p_force,
                                                    'The new working hours');
    RETURN QUERY SELECT w.* FROM booking.working_hours w WHERE w.barber_id = p_barber_id
                  ORDER BY w.weekday, w.opens_at;
END
$$;
