-- booking.set_service_policy(shop, service, min notice, max advance, cancel cut-off,
--   reschedule cut-off, actor) -> the policy that now applies to the service
--   (booking.effective_policy)
-- Overrides the shop's policy for one service: each value given replaces the shop's, NULL
-- takes the shop's again. Ranges as booking.set_shop_policy.
-- Locks: the service's row. Raises: BK004 service_not_found, BK008, BK012, BK014.
CREATE OR REPLACE FUNCTION booking.set_service_policy(
    p_shop_id bigint, p_service text, p_min_notice_minutes int, p_max_advance_days int,
    p_cancel_cutoff_minutes int, p_reschedule_cutoff_minutes int, p_actor_user_id bigint DEFAULT NULL)
RETURNS TABLE (min_notice_minutes int, max_advance_days int, cancel_cutoff_minutes int, reschedule_cutoff_minutes int)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
BEGIN
    IF p_min_notice_minutes NOT BETWEEN 0 AND 525600 OR p_cancel_cutoff_minutes NOT BETWEEN 0 AND 525600
       OR p_reschedule_cutoff_minutes NOT BETWEEN 0 AND 525600 OR p_max_advance_days NOT BETWEEN 1 AND 3650 THEN
        PERFORM booking.raise_error('invalid_argument',
            'Notice and cut-offs are 0 to 525600 minutes, the maximum advance 1 to 3650 days (NULL: the shop''s).');
    END IF;
    UPDATE booking.services s
       SET min_notice_minutes = p_min_notice_minutes, max_advance_days = p_max_advance_days,
           cancel_cutoff_minutes = p_cancel_cutoff_minutes, reschedule_cutoff_minutes = p_reschedule_cutoff_minutes
     WHERE s.shop_id = v_shop.id AND s.name = p_service;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('service_not_found', format('No service is named %s in shop %s.',
            booking.shown(p_service), v_shop.id));
    END IF;
    RETURN QUERY SELECT * FROM booking.effective_policy(v_shop.id, p_service);
END
$$;
