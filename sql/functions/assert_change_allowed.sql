-- booking.assert_change_allowed(old row, new row, actor) -> void
-- The booking policy's cut-offs for a client (p_actor 'owner', as booking.actor_role says;
-- staff may change anything the status machine lets them): cancelling less than
-- cancel_cutoff_minutes before the appointment's start, or moving it (another start or
-- barber) less than reschedule_cutoff_minutes before its current start, is refused; and a
-- new start must be inside the window booking.assert_start_allowed checks for a booking.
-- now() is the transaction's start: the clock is read once per call.
-- Locks: none. Raises: BK023 policy_refused.
CREATE OR REPLACE FUNCTION booking.assert_change_allowed(
    p_old booking.appointments, p_new booking.appointments, p_actor text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF p_actor IS DISTINCT FROM 'owner' THEN
        RETURN;
    END IF;
    SELECT * INTO p FROM booking.effective_policy(p_old.shop_id, p_old.service_name);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_new.status = 'cancelled' AND p_old.status <> 'cancelled' AND p_old.status <> 'held'
       AND now() > p_old.start_time - make_interval(mins => p.cancel_cutoff_minutes) THEN
        PERFORM booking.raise_error('policy_refused',
            format('Appointment %s starts at %s: this shop takes cancellations up to %s minutes before the start.',
                   p_old.id, booking.rfc3339(p_old.start_time), p.cancel_cutoff_minutes),
            'Call the shop: staff may still cancel it.');
    END IF;
    IF (p_new.start_time, p_new.barber_id) IS DISTINCT FROM (p_old.start_time, p_old.barber_id) THEN
        IF now() > p_old.start_time - make_interval(mins => p.reschedule_cutoff_minutes) THEN
            PERFORM booking.raise_error('policy_refused',
                format('Appointment %s starts at %s: this shop takes changes up to %s minutes before the start.',
                       p_old.id, booking.rfc3339(p_old.start_time), p.reschedule_cutoff_minutes),
                'Call the shop: staff may still move it.');
        END IF;
        PERFORM booking.assert_start_allowed(p_old.shop_id, p_old.service_name, p_new.start_time,
                                             p_old.user_id, p_new.barber_id);
    END IF;
END
$$;
