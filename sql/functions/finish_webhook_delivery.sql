-- booking.finish_webhook_delivery(webhook, message, attempt, status code, error, retry
--   base seconds, retry max seconds, horizon seconds) -> text: what became of it
-- The worker's report of one attempt (booking.claim_webhook_deliveries gave the attempt
-- number). A 2xx status without an error is 'delivered'. Anything else is a failure:
--   * 'retry': due again after min(p_retry_max, p_retry_base * 2^(attempts - 1)) seconds,
--     times a random factor in [0.5, 1) (exponential backoff with "equal jitter": receivers
--     that failed together do not come back together);
--   * 'dead' when the first attempt is p_horizon_seconds old or more (3 days by default,
--     WEBHOOK_HORIZON_SECONDS): no more attempts; and the subscription is disabled (the
--     failure rule: its receiver refused or missed one message for the whole horizon), with
--     the reason, until an admin enables it again (booking.enable_webhook replays).
--   * 'stale' when the attempt is not the current one (its lease ended and another worker
--     claimed it, or it was delivered): the report changes nothing.
-- The subscription keeps its last success, last failure and last error for the admin.
-- For the service (booking_app). Locks: the delivery's row, the subscription's row.
-- Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.finish_webhook_delivery(
    p_webhook_id bigint, p_message_id text, p_attempt int, p_status_code int, p_error text,
    p_retry_base_seconds double precision DEFAULT 5, p_retry_max_seconds double precision DEFAULT 3600,
    p_horizon_seconds double precision DEFAULT 259200)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_delivery booking.webhook_deliveries;
    v_ok       boolean := p_error IS NULL AND p_status_code BETWEEN 200 AND 299;
    v_error    text := left(coalesce(p_error, format('HTTP %s', p_status_code)), 500);
    v_delay    double precision;
BEGIN
    IF p_retry_base_seconds IS NULL OR NOT p_retry_base_seconds BETWEEN 0.001 AND 86400
       OR p_retry_max_seconds IS NULL OR NOT p_retry_max_seconds BETWEEN p_retry_base_seconds AND 86400 * 30
       OR p_horizon_seconds IS NULL OR NOT p_horizon_seconds BETWEEN 0 AND 86400 * 365 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Retry base 0.001 to 86400 s, maximum from the base to 30 days, horizon 0 to 365 days (got %s, %s, %s).',
                   coalesce(p_retry_base_seconds::text, 'NULL'), coalesce(p_retry_max_seconds::text, 'NULL'),
                   coalesce(p_horizon_seconds::text, 'NULL')));
    END IF;
    SELECT * INTO v_delivery FROM booking.webhook_deliveries d
     WHERE d.webhook_id = p_webhook_id AND d.message_id = p_message_id
       FOR UPDATE;
    IF NOT FOUND OR v_delivery.status <> 'pending' OR v_delivery.attempts IS DISTINCT FROM p_attempt THEN
        RETURN 'stale';
    END IF;
    IF v_ok THEN
        UPDATE booking.webhook_deliveries d
           SET status = 'delivered', delivered_at = now(), last_status_code = p_status_code, last_error = NULL
         WHERE d.webhook_id = p_webhook_id AND d.message_id = p_message_id;
        UPDATE booking.webhook_subscriptions w SET last_success_at = now() WHERE w.id = p_webhook_id;
        RETURN 'delivered';
    END IF;
    UPDATE booking.webhook_subscriptions w
       SET last_failure_at = now(), last_error = format('%s: %s', p_message_id, v_error)
     WHERE w.id = p_webhook_id;
    IF now() - v_delivery.first_attempt_at >= make_interval(secs => p_horizon_seconds) THEN
        UPDATE booking.webhook_deliveries d
           SET status = 'dead', last_status_code = p_status_code, last_error = v_error
         WHERE d.webhook_id = p_webhook_id AND d.message_id = p_message_id;
        UPDATE booking.webhook_subscriptions w
           SET disabled_at = now(),
               disabled_reason = format('message %s failed every attempt for %s (%s attempts; last: %s)',
                                        p_message_id, justify_hours(make_interval(secs => p_horizon_seconds)),
                                        v_delivery.attempts, v_error)
         WHERE w.id = p_webhook_id AND w.disabled_at IS NULL AND v_delivery.event_type <> 'webhook.test';
        RETURN 'dead';
    END IF;
    v_delay := least(p_retry_max_seconds, p_retry_base_seconds * power(2, least(v_delivery.attempts - 1, 40)));
    UPDATE booking.webhook_deliveries d
       SET next_attempt_at = now() + make_interval(secs => v_delay * (0.5 + random() / 2)),
           last_status_code = p_status_code, last_error = v_error
     WHERE d.webhook_id = p_webhook_id AND d.message_id = p_message_id;
    RETURN 'retry';
END
$$;
