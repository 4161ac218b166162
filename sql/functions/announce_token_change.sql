-- booking.announce_token_change(): trigger function; NOTIFY booking_tokens, '' once per
-- statement that may withdraw a token's answer (booking.authenticate_token): an UPDATE,
-- DELETE or TRUNCATE of booking.api_tokens (revocation, expiry moved, a barber deleted) or
-- of booking.staff (a role withdrawn or changed). INSERTs make nothing invalid and are
-- silent. The service clears its token cache (app.web.auth) on every notification, so a
-- revoked token stops working as soon as the notification arrives; the notification is
-- sent at commit, never for a change that rolled back.
-- Locks: NOTIFY's commit lock, in the writer's transaction (these writes are rare and are
-- never a booking's). Raises: nothing.
CREATE OR REPLACE FUNCTION booking.announce_token_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('booking_tokens', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER api_tokens_announce_change
    AFTER UPDATE OR DELETE OR TRUNCATE ON booking.api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION booking.announce_token_change();

CREATE OR REPLACE TRIGGER staff_announce_change
    AFTER UPDATE OR DELETE OR TRUNCATE ON booking.staff
    FOR EACH STATEMENT EXECUTE FUNCTION booking.announce_token_change();
