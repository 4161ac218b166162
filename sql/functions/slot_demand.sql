-- booking.slot_demand(barber, local date) -> one row: what the conflict model
--   (app/learning, GET /barbers/{id}/availability?predict=true) reads about the barber's
--   demand now, and the clock it was read at:
--     timezone              the barber's zone (the model's hour of the week is local)
--     busy_from, busy_until the blocked intervals of the barber's active appointments that
--                           start on that local date (parallel arrays, by start)
--     booked_24h            appointments of the barber made in the last 24 hours (any status)
--     refused_24h           refused booking attempts for the barber in the last 24 hours
--                           (booking.booking_attempts: a 409 is demand too)
--     booked_28d            appointments of the barber made in the last 28 days
--     shop_booked_28d, shop_barbers   the same for the whole shop, and how many barbers it
--                           has: the barber's popularity relative to the shop's average
--     read_at               now()
-- Counts and intervals only (what free_slots and the change feed show anyway): no user,
-- no notes. Reads a snapshot, takes no lock.
-- Locks: none. Raises: BK003 barber_not_found, BK008 invalid_argument (a date outside 0001-9999).
CREATE OR REPLACE FUNCTION booking.slot_demand(p_barber_id bigint, p_date date)
RETURNS TABLE (timezone text, busy_from timestamptz[], busy_until timestamptz[], booked_24h int, refused_24h int,
               booked_28d int, shop_booked_28d int, shop_barbers int, read_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_barber booking.barbers;
    v_from   timestamptz;
    v_to     timestamptz;
BEGIN
    PERFORM booking.check_local_date('date', p_date);
    SELECT * INTO v_barber FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    v_from := booking.local_to_utc_or_null(p_date + time '00:00', v_barber.timezone);
    v_to := booking.local_to_utc_or_null(p_date + 1 + time '00:00', v_barber.timezone);
    v_from := coalesce(v_from, (p_date + time '00:00') AT TIME ZONE v_barber.timezone);
    v_to := coalesce(v_to, (p_date + 1 + time '00:00') AT TIME ZONE v_barber.timezone);
    RETURN QUERY
    SELECT v_barber.timezone,
           coalesce((SELECT array_agg(lower(a.blocked_during) ORDER BY a.start_time) FROM booking.appointments a
                      WHERE a.barber_id = p_barber_id AND a.start_time >= v_from AND a.start_time < v_to
                        AND a.status NOT IN ('cancelled', 'no_show', 'expired')
                        AND (a.status <> 'held' OR a.hold_expires_at > now())), '{}'),
           coalesce((SELECT array_agg(upper(a.blocked_during) ORDER BY a.start_time) FROM booking.appointments a
                      WHERE a.barber_id = p_barber_id AND a.start_time >= v_from AND a.start_time < v_to
                        AND a.status NOT IN ('cancelled', 'no_show', 'expired')
                        AND (a.status <> 'held' OR a.hold_expires_at > now())), '{}'),
           (SELECT count(*)::int FROM booking.appointments a
             WHERE a.barber_id = p_barber_id AND a.created_at > now() - interval '24 hours' AND a.status <> 'held'),
           (SELECT count(*)::int FROM booking.booking_attempts t
             WHERE t.barber_id = p_barber_id AND t.attempted_at > now() - interval '24 hours'),
           (SELECT count(*)::int FROM booking.appointments a
             WHERE a.barber_id = p_barber_id AND a.created_at > now() - interval '28 days' AND a.status <> 'held'),
           (SELECT count(*)::int FROM booking.appointments a
             WHERE a.shop_id = v_barber.shop_id AND a.created_at > now() - interval '28 days' AND a.status <> 'held'),
           (SELECT count(*)::int FROM booking.barbers b WHERE b.shop_id = v_barber.shop_id),
           now();
END
$$;
