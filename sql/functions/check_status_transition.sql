-- booking.check_status_transition(appointment, from status, to status, actor)
-- Whether `p_actor` (booking.actor_role: 'owner', 'barber' or 'admin') may move an
-- appointment from one status to another, as booking.status_transitions says (loaded from
-- sql/status_transitions.csv on every migrate; the README's table is generated from it).
-- A status with no way out (completed, cancelled, no_show) is final: nothing about the
-- appointment may change any more. Staying in the same status is not a transition.
-- Locks: none. Raises: BK010 invalid_status_transition, BK012 not_permitted.
CREATE OR REPLACE FUNCTION booking.check_status_transition(
    p_appointment_id bigint, p_from text, p_to text, p_actor text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_allowed_to text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM booking.status_transitions t WHERE t.from_status = p_from) THEN
        PERFORM booking.raise_error('invalid_status_transition',
            format('Appointment %s is %s and can no longer be changed.', p_appointment_id, p_from));
    END IF;
    IF p_to = p_from THEN
        RETURN;
    END IF;
    SELECT t.allowed_to INTO v_allowed_to
      FROM booking.status_transitions t WHERE t.from_status = p_from AND t.to_status = p_to;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('invalid_status_transition',
            format('An appointment that is %s cannot become %s.', p_from, booking.shown(p_to)));
    END IF;
    IF v_allowed_to = 'staff' AND p_actor = 'owner' THEN
        PERFORM booking.raise_error('not_permitted',
            format('Only the barber or an admin may mark an appointment %s.', p_to));
    END IF;
END
$$;
