-- booking.enable_webhook(shop, webhook, since, actor) -> booking.webhook_record
-- Enables the subscription again and replays: its dead deliveries are due again (with a
-- fresh retry horizon), and every change of the shop's appointments the change feed
-- recorded since p_since (default: when it was disabled; nothing for one never disabled)
-- that it has no delivery for is queued, in the feed's order. The feed keeps its events for
-- its retention (booking.retention_policy): a replay reaches back at most that far.
-- Deliveries already made are not repeated (the key is (webhook, message id)).
-- For the shop's admin. Locks: the subscription's row.
-- Raises: BK008 invalid_argument (p_since infinite), BK012 not_permitted, BK014
-- shop_not_found, BK024 webhook_not_found.
CREATE OR REPLACE FUNCTION booking.enable_webhook(
    p_shop_id bigint, p_webhook_id bigint, p_since timestamptz DEFAULT NULL, p_actor_user_id bigint DEFAULT NULL)
RETURNS SETOF booking.webhook_record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hook  booking.webhook_subscriptions := booking.assert_webhook_admin(p_shop_id, p_webhook_id, p_actor_user_id);
    v_since timestamptz := coalesce(p_since, v_hook.disabled_at);
BEGIN
    IF NOT isfinite(v_since) THEN
        PERFORM booking.raise_error('invalid_argument', 'A replay starts at a finite instant.');
    END IF;
    UPDATE booking.webhook_subscriptions w SET disabled_at = NULL, disabled_reason = NULL WHERE w.id = v_hook.id;
    UPDATE booking.webhook_deliveries d
       SET status = 'pending', attempts = 0, next_attempt_at = now(), first_attempt_at = NULL
     WHERE d.webhook_id = v_hook.id AND d.status = 'dead';
    IF v_since IS NOT NULL THEN
        INSERT INTO booking.webhook_deliveries AS d
               (webhook_id, message_id, shop_id, event_type, appointment_id, version, event_at, data)
        SELECT v_hook.id, q.message_id, v_hook.shop_id, q.event_type, q.appointment_id, q.version, q.event_at, q.data
          FROM booking.webhook_messages(ARRAY(SELECT e FROM booking.appointment_events e
                                              WHERE e.created_at >= v_since
                                                AND booking.shop_of_id(e.appointment_id) = v_hook.shop_id
                                              ORDER BY e.id)) AS q
         WHERE q.event_type = ANY (v_hook.events)
         ORDER BY q.event_id
        ON CONFLICT (webhook_id, message_id) DO NOTHING;
    END IF;
    RETURN QUERY SELECT * FROM booking.webhook_records(v_hook.shop_id, v_hook.id);
END
$$;
