-- booking.purge_expired_idempotency_keys() -> number of keys deleted
-- Deletes idempotency keys past their expiry (they live booking.idempotency_key_ttl, at
-- least 24 hours). The service runs it periodically; it is safe to run at any time.
-- Locks: row locks on the deleted keys. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.purge_expired_idempotency_keys()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deleted bigint;
BEGIN
    DELETE FROM booking.idempotency_keys k WHERE k.expires_at <= now();
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;
