-- booking.book_series(barber, user, service, first local date, local time, every N weeks,
--   K occurrences, buffers, notes, idempotency key, shop)
--   -> the K appointments (rows of booking.appointment_records), by date, all with the
--      series_id of the first
--
-- A recurring booking, all or nothing in the caller's transaction: occurrence k (0..K-1)
-- is on local date first + 7 * N * k at the same local time in the barber's zone, read
-- for that date (booking.local_start): across a change of daylight saving time a 10:00
-- appointment stays at 10:00 local, its instant moves by the offset. Each occurrence is
-- booked by booking.place_appointment exactly as book_appointment books one (the same
-- checks, locks, trigger and constraint), in date order, so two series of one barber take
-- the (barber, day) locks in the same order and never deadlock. The first refusal ends the
-- call and nothing of the series stays: its SQLSTATE and DETAIL are that occurrence's own
-- (23P01 names the conflicting appointment), and its HINT names the occurrence:
-- "Occurrence 3 of 10, 2030-01-22: nothing of the series was booked."
-- Each occurrence is then an ordinary appointment (its own id, version, change, cancel);
-- booking.cancel_following cancels one and the later ones of its series.
-- With p_idempotency_key K (at most 190 characters), occurrence k is booked with key
-- K#k: the same series request replays every occurrence (replayed = true), another request
-- with the same key is BK002.
-- Buffers given as NULL are the barber's default for the service, as for one booking.
-- Limits: 1 to 100 occurrences, every 1 to 52 weeks.
-- Locks: those of book_appointment, for each occurrence, in date order.
-- Raises: what book_appointment raises (23P01, BK002, BK003, BK004, BK005, BK006, BK007,
--   BK008, BK013, 55P03, 40001), for the first occurrence refused; BK008 for a bad count,
--   interval or key.
CREATE OR REPLACE FUNCTION booking.book_series(
    p_barber_id       bigint,
    p_user_id         bigint,
    p_service         text,
    p_first_date      date,
    p_local_time      time,
    p_every_weeks     int,
    p_count           int,
    p_buffer_before   int  DEFAULT 0,
    p_buffer_after    int  DEFAULT 0,
    p_notes           text DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL,
    p_shop_id         bigint DEFAULT NULL)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows    booking.appointment_records[] := '{}';
    v_row     booking.appointment_records;
    v_date    date;
    v_state   text; v_message text; v_detail text; v_hint text;
    k         int;
BEGIN
    IF p_count IS NULL OR p_count NOT BETWEEN 1 AND 100 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A series has 1 to 100 occurrences (got %s).', coalesce(p_count::text, 'NULL')));
    END IF;
    IF p_every_weeks IS NULL OR p_every_weeks NOT BETWEEN 1 AND 52 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A series repeats every 1 to 52 weeks (got %s).', coalesce(p_every_weeks::text, 'NULL')));
    END IF;
    IF p_first_date IS NULL OR p_local_time IS NULL OR NOT isfinite(p_first_date)
       OR p_first_date > date '9999-12-30' - 7 * p_every_weeks * (p_count - 1) THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A series needs a first date and a local time, and its last date before 9999-12-31 (got %s at %s).',
                   coalesce(p_first_date::text, 'NULL'), coalesce(p_local_time::text, 'NULL')));
    END IF;
    IF length(p_idempotency_key) > 190 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A series'' idempotency key is 1 to 190 characters (got %s).', length(p_idempotency_key)));
    END IF;
    FOR k IN 0 .. p_count - 1 LOOP
        v_date := p_first_date + 7 * p_every_weeks * k;
        BEGIN
            SELECT * INTO v_row
            FROM booking.place_appointment(p_barber_id, p_user_id, p_service,
                     booking.local_start(p_barber_id, v_date, p_local_time, p_shop_id),
                     p_buffer_before, p_buffer_after, p_notes,
                     CASE WHEN p_idempotency_key IS NULL THEN NULL ELSE p_idempotency_key || '#' || k END,
                     p_shop_id, false);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            v_hint := format('Occurrence %s of %s, %s: nothing of the series was booked.', k + 1, p_count, v_date)
                      || CASE WHEN coalesce(v_hint, '') = '' THEN '' ELSE ' ' || v_hint END;
            IF coalesce(v_detail, '') = '' THEN
                RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, HINT = v_hint;
            END IF;
            RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail, HINT = v_hint;
        END;
        v_rows := v_rows || v_row;
    END LOOP;
    -- The link: the first occurrence's id (no new version, no event: see the migration).
    UPDATE booking.appointments a SET series_id = v_rows[1].id
     WHERE a.id = ANY (ARRAY(SELECT r.id FROM unnest(v_rows) r)) AND a.series_id IS DISTINCT FROM v_rows[1].id;
    FOR k IN 1 .. cardinality(v_rows) LOOP
        v_row := v_rows[k];
        v_row.series_id := v_rows[1].id;
        RETURN NEXT v_row;
    END LOOP;
END
$$;
