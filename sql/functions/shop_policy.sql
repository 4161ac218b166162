-- booking.shop_policy(shop) -> the shop's booking policy (minimum notice, maximum advance,
-- cancel and reschedule cut-offs; the defaults 0, none, 0, 0), or no row for an unknown shop.
-- A service may override each value (booking.set_service_policy; booking.effective_policy).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.shop_policy(p_shop_id bigint)
RETURNS TABLE (shop_id bigint, min_notice_minutes int, max_advance_days int,
               cancel_cutoff_minutes int, reschedule_cutoff_minutes int)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT h.id, h.min_notice_minutes, h.max_advance_days, h.cancel_cutoff_minutes, h.reschedule_cutoff_minutes
      FROM booking.shops h WHERE h.id = p_shop_id;
END;
