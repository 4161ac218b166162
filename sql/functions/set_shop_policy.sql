-- booking.set_shop_policy(shop, min notice minutes, max advance days, cancel cut-off
--   minutes, reschedule cut-off minutes, actor) -> the policy (booking.shop_policy)
-- Replaces the shop's booking policy: every value given (0 to 525600 minutes; days 1 to
-- 3650, NULL for no maximum). From the next call on, clients' bookings, moves and
-- cancellations obey it (booking.assert_start_allowed, booking.assert_change_allowed) and
-- availability offers only the starts it allows; appointments already made stay.
-- For the shop's admin named as the acting user, or a trusted caller (assert_shop_admin).
-- Locks: the shop's row. Raises: BK008 invalid_argument, BK012 not_permitted, BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.set_shop_policy(
    p_shop_id bigint, p_min_notice_minutes int, p_max_advance_days int,
    p_cancel_cutoff_minutes int, p_reschedule_cutoff_minutes int, p_actor_user_id bigint DEFAULT NULL)
RETURNS TABLE (shop_id bigint, min_notice_minutes int, max_advance_days int,
               cancel_cutoff_minutes int, reschedule_cutoff_minutes int)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
BEGIN
    IF p_min_notice_minutes IS NULL OR p_min_notice_minutes NOT BETWEEN 0 AND 525600
       OR p_cancel_cutoff_minutes IS NULL OR p_cancel_cutoff_minutes NOT BETWEEN 0 AND 525600
       OR p_reschedule_cutoff_minutes IS NULL OR p_reschedule_cutoff_minutes NOT BETWEEN 0 AND 525600
       OR p_max_advance_days NOT BETWEEN 1 AND 3650 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Notice and cut-offs are 0 to 525600 minutes, the maximum advance 1 to 3650 days or none (got %s, %s, %s, %s).',
                   coalesce(p_min_notice_minutes::text, 'NULL'), coalesce(p_max_advance_days::text, 'none'),
                   coalesce(p_cancel_cutoff_minutes::text, 'NULL'), coalesce(p_reschedule_cutoff_minutes::text, 'NULL')));
    END IF;
    UPDATE booking.shops h
       SET min_notice_minutes = p_min_notice_minutes, max_advance_days = p_max_advance_days,
           cancel_cutoff_minutes = p_cancel_cutoff_minutes, reschedule_cutoff_minutes = p_reschedule_cutoff_minutes
     WHERE h.id = v_shop.id;
    RETURN QUERY SELECT * FROM booking.shop_policy(v_shop.id);
END
$$;
