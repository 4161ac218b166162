-- booking.assert_start_allowed(shop, service, start, user, barber) -> void
-- The booking policy's window for a client: a start at least min_notice_minutes after
-- now() and, when the policy has a maximum, at most max_advance_days after it
-- (booking.effective_policy). now() is the transaction's start: the clock is read once per
-- call. Staff acting as staff (booking.actor_role says admin, or barber of p_barber_id)
-- may book outside it; a trusted internal caller (acting role 'staff') counts as the user
-- it acts for. Costs nothing when the policy has neither limit.
-- Locks: none. Raises: BK023 policy_refused.
CREATE OR REPLACE FUNCTION booking.assert_start_allowed(
    p_shop_id bigint, p_service text, p_start timestamptz, p_user_id bigint, p_barber_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    SELECT * INTO p FROM booking.effective_policy(p_shop_id, p_service);
    IF NOT FOUND OR (p.min_notice_minutes = 0 AND p.max_advance_days IS NULL) THEN
        RETURN;
    END IF;
    IF coalesce(booking.actor_role(p_user_id, p_user_id, p_barber_id), 'owner') <> 'owner' THEN
        RETURN;                                    -- staff may book outside the window
    END IF;
    IF p_start < now() + make_interval(mins => p.min_notice_minutes) THEN
        PERFORM booking.raise_error('policy_refused',
            format('%s is less than %s minutes ahead: this shop books %s at least %s minutes in advance.',
                   booking.rfc3339(p_start), p.min_notice_minutes, booking.shown(p_service), p.min_notice_minutes),
            'Choose a later time, or ask the shop.');
    END IF;
    IF p.max_advance_days IS NOT NULL AND p_start > now() + make_interval(days => p.max_advance_days) THEN
        PERFORM booking.raise_error('policy_refused',
            format('%s is more than %s days ahead: this shop books %s at most %s days in advance.',
                   booking.rfc3339(p_start), p.max_advance_days, booking.shown(p_service), p.max_advance_days),
            'Choose an earlier day.');
    END IF;
END
$$;
