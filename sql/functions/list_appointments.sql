-- booking.list_appointments(acting user, barber, from, to, status, after start, after id,
--   limit) -> the appointments p_user_id may see (rows of booking.appointment_records),
--   oldest first: ordered by (start_time, id), at most p_limit of them.
-- Visibility is booking.actor_role's, exactly: the rows for which actor_role(user, its
-- client, its barber) is not NULL (the client who booked it; its barber; an admin of its
-- shop or of every shop; booking.acting_role caps the staff rights as everywhere). The
-- branches below spell that rule out per staff role as predicates an index can serve (the
-- user's own: (user_id, start_time); a barber's: (barber_id, start_time); a shop's:
-- (shop_id, start_time)), rather than calling actor_role per row (which cost 0.1 ms a row);
-- tests/sql/17_schedules.sql checks the lists against get_appointment for every staff role
-- and acting role. Each is one index range scan from the page's lower key that stops after
-- p_limit rows (an admin of every shop: one such scan per shop of this database, merged);
-- docs/bench/explain-barber-week.txt shows the plans (scripts/explain-schedules.sh).
-- Filters: p_barber_id (NULL: every barber the user may see), the window
-- p_from <= start_time < p_to (NULL, -infinity and infinity: unbounded), p_status (one of
-- the statuses of booking.status_transitions; NULL: any).
-- Keyset pagination: p_after_start and p_after_id are the (start_time, id) of the last row
-- of the previous page (both or neither); the page holds the rows after it. Rows inserted
-- while a caller pages never make it skip or repeat one that existed when it started (a
-- row's key is its start and id; only a rescheduled one moves).
-- Locks: none. Raises: BK008 invalid_argument (p_limit NULL or outside 1..200, an unknown
--   status, p_from after p_to, half a cursor, a bad booking.acting_role).
CREATE OR REPLACE FUNCTION booking.list_appointments(
    p_user_id bigint,
    p_barber_id bigint DEFAULT NULL,
    p_from timestamptz DEFAULT NULL,
    p_to timestamptz DEFAULT NULL,
    p_status text DEFAULT NULL,
    p_after_start timestamptz DEFAULT NULL,
    p_after_id bigint DEFAULT NULL,
    p_limit int DEFAULT 50)
RETURNS SETOF booking.appointment_records
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_acting   text := booking.acting_role();
    v_staff    booking.staff;
    v_scope    text;              -- all, shop, barber, own: what the user's staff role shows
    v_lo_start timestamptz;       -- the page starts after (v_lo_start, v_lo_id)
    v_lo_id    bigint;
    v_hi       timestamptz := coalesce(p_to, 'infinity');
    v_all      boolean;
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 200 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('p_limit must be 1 to 200 (got %s).', coalesce(p_limit::text, 'NULL')));
    END IF;
    IF p_status IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM booking.status_transitions t WHERE p_status IN (t.from_status, t.to_status)) THEN
        PERFORM booking.raise_error('invalid_argument',
            format('status must be one of %s (got %s).',
                   (SELECT string_agg(s, ', ' ORDER BY s) FROM (
                        SELECT from_status FROM booking.status_transitions
                        UNION SELECT to_status FROM booking.status_transitions) AS k(s)),
                   booking.shown(p_status)));
    END IF;
    IF p_from > p_to THEN
        PERFORM booking.raise_error('invalid_argument',
            format('from (%s) is after to (%s).', booking.rfc3339(p_from), booking.rfc3339(p_to)));
    END IF;
    IF (p_after_start IS NULL) <> (p_after_id IS NULL) THEN
        PERFORM booking.raise_error('invalid_argument',
            'A cursor is a start time and an id: give both or neither.');
    END IF;
    IF p_user_id IS NULL THEN
        RETURN;                   -- nobody: actor_role is NULL for every row
    END IF;

    -- One lower key for the index: the cursor when it is inside the window, else the
    -- window's start (every real id is above the smallest bigint).
    IF p_after_start IS NOT NULL AND p_after_start >= coalesce(p_from, '-infinity') THEN
        v_lo_start := p_after_start;
        v_lo_id := p_after_id;
    ELSE
        v_lo_start := coalesce(p_from, '-infinity');
        v_lo_id := -9223372036854775808;
    END IF;

    SELECT * INTO v_staff FROM booking.staff s WHERE s.user_id = p_user_id;
    v_scope := CASE
                   WHEN v_staff.role = 'admin' AND v_acting IN ('admin', 'staff')
                   THEN CASE WHEN v_staff.shop_id IS NULL THEN 'all' ELSE 'shop' END
                   WHEN v_staff.role = 'barber' AND v_acting IN ('barber', 'staff') THEN 'barber'
                   ELSE 'own'
               END;

    IF p_barber_id IS NOT NULL THEN
        -- May the user see every appointment of this barber, or only its own?
        v_all := v_scope = 'all'
                 OR (v_scope = 'shop' AND v_staff.shop_id = (SELECT b.shop_id FROM booking.barbers b WHERE b.id = p_barber_id))
                 OR (v_scope = 'barber' AND v_staff.barber_id = p_barber_id);
        IF v_all THEN
            RETURN QUERY
                SELECT r.* FROM booking.appointment_records r
                WHERE r.barber_id = p_barber_id
                  AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                  AND (p_status IS NULL OR r.status = p_status)
                ORDER BY r.start_time, r.id
                LIMIT p_limit;
        ELSE
            RETURN QUERY
                SELECT r.* FROM booking.appointment_records r
                WHERE r.user_id = p_user_id AND r.barber_id = p_barber_id
                  AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                  AND (p_status IS NULL OR r.status = p_status)
                ORDER BY r.start_time, r.id
                LIMIT p_limit;
        END IF;
    ELSIF v_scope = 'own' THEN
        RETURN QUERY
            SELECT r.* FROM booking.appointment_records r
            WHERE r.user_id = p_user_id
              AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
              AND (p_status IS NULL OR r.status = p_status)
            ORDER BY r.start_time, r.id
            LIMIT p_limit;
    ELSIF v_scope = 'barber' THEN
        -- The barber's appointments, and the user's own with other barbers.
        RETURN QUERY
            SELECT u.* FROM (
                (SELECT r.* FROM booking.appointment_records r
                 WHERE r.barber_id = v_staff.barber_id
                   AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                   AND (p_status IS NULL OR r.status = p_status)
                 ORDER BY r.start_time, r.id
                 LIMIT p_limit)
                UNION ALL
                (SELECT r.* FROM booking.appointment_records r
                 WHERE r.user_id = p_user_id AND r.barber_id <> v_staff.barber_id
                   AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                   AND (p_status IS NULL OR r.status = p_status)
                 ORDER BY r.start_time, r.id
                 LIMIT p_limit)) AS u
            ORDER BY u.start_time, u.id
            LIMIT p_limit;
    ELSIF v_scope = 'shop' THEN
        -- The shop's appointments, and the user's own in other shops.
        RETURN QUERY
            SELECT u.* FROM (
                (SELECT r.* FROM booking.appointment_records r
                 WHERE r.shop_id = v_staff.shop_id
                   AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                   AND (p_status IS NULL OR r.status = p_status)
                 ORDER BY r.start_time, r.id
                 LIMIT p_limit)
                UNION ALL
                (SELECT r.* FROM booking.appointment_records r
                 WHERE r.user_id = p_user_id AND r.shop_id <> v_staff.shop_id
                   AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                   AND (p_status IS NULL OR r.status = p_status)
                 ORDER BY r.start_time, r.id
                 LIMIT p_limit)) AS u
            ORDER BY u.start_time, u.id
            LIMIT p_limit;
    ELSE
        -- An admin of every shop: one bounded scan per shop, merged.
        RETURN QUERY
            SELECT x.* FROM booking.shops sh
            CROSS JOIN LATERAL (
                SELECT r.* FROM booking.appointment_records r
                WHERE r.shop_id = sh.id
                  AND (r.start_time, r.id) > (v_lo_start, v_lo_id) AND r.start_time < v_hi
                  AND (p_status IS NULL OR r.status = p_status)
                ORDER BY r.start_time, r.id
                LIMIT p_limit) AS x
            ORDER BY x.start_time, x.id
            LIMIT p_limit;
    END IF;
END
$$;
