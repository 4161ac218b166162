-- booking.calendar_feed(barber, acting user, sha-256 of a feed key, from, to) -> the rows
--   of barber p_barber_id's calendar feed (GET /barbers/{id}/calendar.ics), oldest first
-- Who may read it: with p_key_hash, whoever holds an unrevoked key issued for this barber
-- (booking.issue_calendar_key); an unknown key, a revoked one, or one of another barber is
-- BK021 whether or not the barber exists (the answer never tells a key-holder anything
-- else). Without a key, an admin of the barber's shop or that barber, as
-- booking.assert_barber_staff says (the rights a staff token has in
-- booking.list_appointments for this barber: every appointment of the barber).
-- What: the barber's appointments of every status (cancelled ones too: a calendar app
-- learns of a cancellation from STATUS:CANCELLED) starting in [p_from, p_to); by default
-- from 30 days ago to 365 days ahead; a window of at most 400 days; at most 5000 rows (the
-- earliest). No client ids ever; the notes only for staff (NULL when read by key).
-- Cost: one range scan of appointments_barber_start_idx (barber_id, start_time) that stops
-- after 5000 rows, plus the key's unique-index probe. Not booking.list_appointments: its
-- pages hold at most 200 rows and a key has no user whose visibility it could use.
-- Locks: none. Raises: BK021 calendar_feed_not_found, BK003 barber_not_found, BK012
--   not_permitted, BK008 invalid_argument (the window, a bad booking.acting_role).
CREATE OR REPLACE FUNCTION booking.calendar_feed(
    p_barber_id bigint,
    p_user_id bigint DEFAULT NULL,
    p_key_hash bytea DEFAULT NULL,
    p_from timestamptz DEFAULT NULL,
    p_to timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, barber_id bigint, barber_name text, timezone text, service_name text,
               start_time timestamptz, end_time timestamptz, status text, hold_expires_at timestamptz,
               version int, created_at timestamptz, updated_at timestamptz, notes text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_from timestamptz := coalesce(p_from, now() - interval '30 days');
    v_to   timestamptz;
    v_by_key boolean := p_key_hash IS NOT NULL;
BEGIN
    -- Checked before any arithmetic on it: 'infinity' or year 294276 plus a year overflows.
    IF NOT isfinite(v_from) OR v_from >= timestamptz '9999-12-31 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A calendar window starts at a real instant before 9999-12-31 (got %s).', v_from));
    END IF;
    v_to := coalesce(p_to, v_from + interval '395 days');
    IF v_by_key THEN
        IF NOT EXISTS (SELECT 1 FROM booking.calendar_keys k
                        WHERE k.key_hash = p_key_hash AND k.barber_id = p_barber_id AND k.revoked_at IS NULL) THEN
            PERFORM booking.raise_error('calendar_feed_not_found', 'No calendar feed has this key.');
        END IF;
    ELSE
        PERFORM booking.assert_barber_staff(p_barber_id, p_user_id);
    END IF;
    IF NOT (isfinite(v_from) AND isfinite(v_to)) OR v_from >= v_to OR v_to - v_from > interval '400 days' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A calendar window is from before to, at most 400 days (got %s to %s).',
                   booking.rfc3339(v_from), booking.rfc3339(v_to)));
    END IF;
    RETURN QUERY
        SELECT a.id, a.barber_id, b.name, b.timezone, a.service_name, a.start_time,
               a.start_time + make_interval(mins => a.duration_minutes), a.status, a.hold_expires_at,
               a.version, a.created_at, a.updated_at, CASE WHEN v_by_key THEN NULL ELSE a.notes END
        FROM booking.appointments a
        JOIN booking.barbers b ON b.id = a.barber_id
        WHERE a.barber_id = p_barber_id AND a.start_time >= v_from AND a.start_time < v_to
        ORDER BY a.start_time, a.id
        LIMIT 5000;
END
$$;
