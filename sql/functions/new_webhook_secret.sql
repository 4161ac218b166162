-- booking.new_webhook_secret() -> text
-- A Standard Webhooks secret: 'whsec_' and the base64 of 32 bytes from two
-- gen_random_uuid() (PostgreSQL's strong random source; 244 random bits, no extension).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.new_webhook_secret()
RETURNS text
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'whsec_' || encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64')
$$;
