-- booking.with_settings(value, lock timeout, application checks, key lifetime, acting role)
--   -> value, unchanged
-- Makes the booking settings transaction-local (set_config(..., true)) and returns its first
-- argument, so that a caller sends the settings and the call in ONE statement: the service
-- passes its first argument through it, and PostgreSQL evaluates a function's arguments
-- before the function runs:
--   SELECT * FROM booking.book_appointment(booking.with_settings($1::bigint, '200ms', 'on',
--                                          '24 hours', 'client'), ...);
-- A NULL setting is left as it is. The settings are those a session could SET itself
-- (booking.lock_timeout, booking.application_checks, booking.idempotency_key_ttl,
-- booking.acting_role); the functions check their values when they read them.
-- No SET clause (it would cost a setting save and restore per call): it calls only
-- pg_catalog.set_config, schema-qualified.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.with_settings(
    p_value anyelement, p_lock_timeout text, p_application_checks text, p_idempotency_key_ttl text,
    p_acting_role text)
RETURNS anyelement
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF p_lock_timeout IS NOT NULL THEN
        PERFORM pg_catalog.set_config('booking.lock_timeout', p_lock_timeout, true);
    END IF;
    IF p_application_checks IS NOT NULL THEN
        PERFORM pg_catalog.set_config('booking.application_checks', p_application_checks, true);
    END IF;
    IF p_idempotency_key_ttl IS NOT NULL THEN
        PERFORM pg_catalog.set_config('booking.idempotency_key_ttl', p_idempotency_key_ttl, true);
    END IF;
    IF p_acting_role IS NOT NULL THEN
        PERFORM pg_catalog.set_config('booking.acting_role', p_acting_role, true);
    END IF;
    RETURN p_value;
END
$$;
