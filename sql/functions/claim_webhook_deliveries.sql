-- booking.claim_webhook_deliveries(limit, lease seconds) -> the deliveries to attempt now
-- The delivery worker's claim (app/webhooks.py): up to p_limit due deliveries, oldest due
-- first, each with what its POST needs (the URL, the secrets valid now, the message).
-- A claimed delivery counts an attempt and is due again only when its lease ends
-- (next_attempt_at = now() + p_lease_seconds), so another worker takes it only if this one
-- did not report within the lease (it died): several workers never attempt one delivery at
-- the same time while a POST lasts less than the lease (the worker's timeout is shorter).
-- Rows another claim holds are skipped (FOR UPDATE SKIP LOCKED), not waited for.
-- Order: a delivery waits while an earlier change of the same appointment (a lower
-- version) is pending for the same subscription, so a receiver gets one appointment's
-- changes in order. A disabled subscription's deliveries wait too (test messages excepted).
-- A delivery queued without its data (the appointment's row was not visible to the relay
-- yet: booking.webhook_messages) takes the appointment as it is now, and waits while the
-- row is not there.
-- Attempt numbers are the claim's token: booking.finish_webhook_delivery ignores a report
-- for an attempt that is no longer the current one.
-- For the service (booking_app): the answer holds secrets.
-- Locks: the claimed deliveries' rows (FOR UPDATE SKIP LOCKED). Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.claim_webhook_deliveries(p_limit int, p_lease_seconds double precision)
RETURNS TABLE (webhook_id bigint, message_id text, attempt int, url text, secrets text[], event_type text,
               event_at timestamptz, data jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET "TimeZone" = 'UTC'
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000
       OR p_lease_seconds IS NULL OR NOT p_lease_seconds BETWEEN 1 AND 3600 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A claim takes 1 to 1000 deliveries for a lease of 1 to 3600 seconds (got %s, %s).',
                   coalesce(p_limit::text, 'NULL'), coalesce(p_lease_seconds::text, 'NULL')));
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT d.webhook_id, d.message_id
          FROM booking.webhook_deliveries d
          JOIN booking.webhook_subscriptions w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= now()
           AND (w.disabled_at IS NULL OR d.event_type = 'webhook.test')
           AND (d.data IS NOT NULL OR EXISTS (SELECT 1 FROM booking.appointments a WHERE a.id = d.appointment_id))
           AND NOT EXISTS (SELECT 1 FROM booking.webhook_deliveries p
                            WHERE p.webhook_id = d.webhook_id AND p.appointment_id = d.appointment_id
                              AND p.version < d.version AND p.status = 'pending')
         ORDER BY d.next_attempt_at
         LIMIT p_limit
           FOR UPDATE OF d SKIP LOCKED
    ), claimed AS (
        UPDATE booking.webhook_deliveries d
           SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds),
               first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
          FROM due
         WHERE d.webhook_id = due.webhook_id AND d.message_id = due.message_id
        RETURNING d.*
    )
    SELECT c.webhook_id, c.message_id, c.attempts, w.url,
           CASE WHEN w.previous_secret IS NOT NULL AND w.previous_secret_until > now()
                THEN ARRAY[w.secret, w.previous_secret] ELSE ARRAY[w.secret] END,
           c.event_type, c.event_at, coalesce(c.data, to_jsonb(r))
      FROM claimed c JOIN booking.webhook_subscriptions w ON w.id = c.webhook_id
      LEFT JOIN booking.appointment_records r ON c.data IS NULL AND r.id = c.appointment_id
     ORDER BY c.event_at, c.message_id;
END
$$;
