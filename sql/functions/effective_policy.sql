-- booking.effective_policy(shop, service name) -> the booking policy that applies: the
-- service's values where it has them, the shop's otherwise (minimum notice in minutes,
-- maximum advance in days or NULL for none, cancel and reschedule cut-offs in minutes).
-- No row for an unknown shop or service.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.effective_policy(p_shop_id bigint, p_service text)
RETURNS TABLE (min_notice_minutes int, max_advance_days int, cancel_cutoff_minutes int, reschedule_cutoff_minutes int)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT coalesce(s.min_notice_minutes, h.min_notice_minutes),
           coalesce(s.max_advance_days, h.max_advance_days),
           coalesce(s.cancel_cutoff_minutes, h.cancel_cutoff_minutes),
           coalesce(s.reschedule_cutoff_minutes, h.reschedule_cutoff_minutes)
      FROM booking.services s JOIN booking.shops h ON h.id = s.shop_id
     WHERE s.shop_id = p_shop_id AND s.name = p_service;
END;
