-- booking.appointment_change_events(old row, new row) -> the change-feed events one write
-- of an appointment makes: the one rule of what is announced, used by both sources of the
-- feed (the outbox trigger stage_appointment_change and the relay reading the WAL).
--   * nothing when the version did not move (a write that changes nothing a person sees);
--   * kind 'booked' for a new appointment (no old row, version 1), 'held' for a new hold
--     (booking.hold_slot), 'booked' again when a hold is confirmed, 'released' when a hold is
--     cancelled or expires, 'cancelled' when an appointment becomes cancelled or a no-show,
--     'changed' otherwise (an old row of NULL with a
--     version above 1 is an appointment announced late, by catch-up: 'changed' or
--     'cancelled' from its status);
--   * one event per barber concerned, in ascending barber order: a move concerns two;
--   * the payload says which interval changed, never who booked or the notes:
--     appointment_id, barber_id, status, version and the RFC 3339 start_time, end_time,
--     blocked_from and blocked_until.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.appointment_change_events(p_old booking.appointments, p_new booking.appointments)
RETURNS TABLE (barber_id bigint, appointment_id bigint, version int, kind text, payload jsonb)
LANGUAGE sql STABLE PARALLEL SAFE
-- No SET clause: PostgreSQL inlines it into its callers, which pin their search_path.
AS $$
    SELECT b.barber_id, (p_new).id, (p_new).version,
           CASE
               WHEN (p_old).id IS NULL AND (p_new).version = 1 AND (p_new).status = 'held' THEN 'held'
               WHEN (p_old).id IS NULL AND (p_new).version = 1 THEN 'booked'
               WHEN (p_old).status = 'held' AND (p_new).status IN ('cancelled', 'expired') THEN 'released'
               WHEN (p_old).status = 'held' AND (p_new).status NOT IN ('held', 'cancelled', 'expired') THEN 'booked'
               WHEN (p_new).status IN ('cancelled', 'no_show')
                    AND coalesce((p_old).status NOT IN ('cancelled', 'no_show'), true) THEN 'cancelled'
               ELSE 'changed'
           END,
           jsonb_build_object(
               'appointment_id', (p_new).id, 'barber_id', (p_new).barber_id, 'status', (p_new).status,
               'version', (p_new).version,
               'start_time', booking.rfc3339((p_new).start_time),
               'end_time', booking.rfc3339((p_new).start_time + make_interval(mins => (p_new).duration_minutes)),
               'blocked_from', booking.rfc3339(lower((p_new).blocked_during)),
               'blocked_until', booking.rfc3339(upper((p_new).blocked_during)))
    FROM (SELECT DISTINCT x AS barber_id
            FROM unnest(ARRAY[(p_new).barber_id, (p_old).barber_id]) AS x
           WHERE x IS NOT NULL) AS b
    WHERE (p_old).version IS DISTINCT FROM (p_new).version
    ORDER BY b.barber_id
$$;
