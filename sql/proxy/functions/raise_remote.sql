-- booking_proxy.raise_remote(partition, SQLSTATE, message, detail, hint) -> never returns
-- Re-raises an error of a routed call as one database would have raised it. PL/Proxy keeps
-- a partition's SQLSTATE but writes `schema.f(n): [db] REMOTE ERROR: ` before the message,
-- `Remote detail: ` before the DETAIL and `Remote hint: ` before the HINT: they are removed,
-- so a caller parses the same texts through the proxy as on one database (the 23P01
-- DETAIL naming the conflicting appointment, for one). An error PL/Proxy raises itself
-- because it could not reach the partition (connect failed, connection lost: XX000 with
-- no REMOTE ERROR) becomes BK016 partition_unavailable, retryable, naming the partition;
-- errors raised on the proxy itself pass unchanged.
-- Locks: none. Raises: always (the given SQLSTATE, or BK016).
CREATE OR REPLACE FUNCTION booking_proxy.raise_remote(
    p_partition int, p_sqlstate text, p_message text, p_detail text, p_hint text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER  -- as booking_owner: the engine's helpers are not granted to callers
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_remote  text[] := regexp_match(p_message, '^\S+\(\d+\): \[[^\]]*\] REMOTE ERROR: (.*)$', 's');
    v_message text := coalesce(v_remote[1], p_message);
    v_detail  text := nullif(regexp_replace(p_detail, '^Remote detail: ', ''), '');
    v_hint    text := nullif(regexp_replace(p_hint, '^Remote hint: ', ''), '');
BEGIN
    IF v_remote IS NULL AND p_sqlstate = 'XX000' AND p_message ~ '^PL/Proxy function \S+\(\d+\): \[' THEN
        PERFORM booking.raise_error('partition_unavailable',
            format('Partition %s did not answer: %s', coalesce(p_partition::text, '?'),
                   regexp_replace(p_message, '^PL/Proxy function \S+\(\d+\): ', '')),
            'Retry shortly; with an idempotency key a retried booking is never made twice.');
    END IF;
    IF v_detail IS NOT NULL AND v_hint IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = v_message, DETAIL = v_detail, HINT = v_hint;
    ELSIF v_detail IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = v_message, DETAIL = v_detail;
    ELSIF v_hint IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = v_message, HINT = v_hint;
    ELSE
        RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = v_message;
    END IF;
END
$$;
