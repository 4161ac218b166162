-- booking_proxy.settings() -> text[]: this session's booking settings, for the partition
-- PL/Proxy sends a call's arguments, not the session's settings. A routed call passes
-- these along as an argument and the partition applies them with booking.with_settings()
-- in the same statement: booking.lock_timeout, booking.application_checks,
-- booking.idempotency_key_ttl, booking.acting_role (NULL: unset, the partition's default).
-- No SET clause: the body is parsed once, at creation, and the function is inlined into
-- the routed call's plan (a SET clause forbids that, and cost about 55 us per call).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking_proxy.settings()
RETURNS text[]
LANGUAGE sql STABLE
RETURN ARRAY[nullif(current_setting('booking.lock_timeout', true), ''),
             nullif(current_setting('booking.application_checks', true), ''),
             nullif(current_setting('booking.idempotency_key_ttl', true), ''),
             nullif(current_setting('booking.acting_role', true), '')];
