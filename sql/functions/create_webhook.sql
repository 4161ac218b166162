-- booking.create_webhook(shop, url, events, actor) -> booking.webhook_record, with its secret
-- Subscribes url to the shop's appointment events (all of appointment.booked,
-- appointment.changed and appointment.cancelled when p_events is NULL). Deliveries start
-- with the changes the relay records after this commits. The answer carries the secret,
-- which no other answer shows (rotate_webhook_secret makes a new one).
-- The URL's form is checked here (http or https, a host, no credentials, no spaces, at
-- most 2048 characters); whether its host is a private address needs name resolution and
-- is the service's check (app/webhooks.py), made again at each delivery.
-- For the shop's admin (booking.assert_shop_admin).
-- Locks: none. Raises: BK008 invalid_argument, BK012 not_permitted, BK014 shop_not_found.
CREATE OR REPLACE FUNCTION booking.create_webhook(
    p_shop_id bigint, p_url text, p_events text[] DEFAULT NULL, p_actor_user_id bigint DEFAULT NULL)
RETURNS SETOF booking.webhook_record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop   booking.shops := booking.assert_shop_admin(p_shop_id, p_actor_user_id);
    v_events text[] := coalesce(p_events, ARRAY['appointment.booked', 'appointment.changed', 'appointment.cancelled']);
    v_secret text := booking.new_webhook_secret();
    v_id     bigint;
BEGIN
    IF p_url IS NULL OR length(p_url) > 2048 OR p_url !~ '^https?://[^\s/?#@]+(/[^\s]*)?$' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A webhook URL is http:// or https://, a host without credentials, no spaces, at most 2048 characters (got %s).',
                   coalesce(quote_literal(left(p_url, 100)), 'NULL')));
    END IF;
    IF cardinality(v_events) IS DISTINCT FROM (SELECT count(DISTINCT e) FROM unnest(v_events) e WHERE e IS NOT NULL)
       OR cardinality(v_events) = 0
       OR NOT v_events <@ ARRAY['appointment.booked', 'appointment.changed', 'appointment.cancelled'] THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Webhook events are one or more of appointment.booked, appointment.changed and appointment.cancelled, each once (got %s).',
                   left(v_events::text, 200)));
    END IF;
    INSERT INTO booking.webhook_subscriptions (shop_id, url, events, secret, created_by)
    VALUES (v_shop.id, p_url, v_events, v_secret, p_actor_user_id)
    RETURNING id INTO v_id;
    RETURN QUERY SELECT * FROM booking.webhook_records(v_shop.id, v_id, v_secret);
END
$$;
