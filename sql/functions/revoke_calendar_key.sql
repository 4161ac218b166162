-- booking.revoke_calendar_key(barber, key id, actor) -> boolean
-- Revokes key p_key_id of barber p_barber_id's calendar feed: from the commit on, the feed
-- answers that key BK021 (404), like a key never issued. true when this call revoked it,
-- false when it was revoked already (revoking twice is harmless). Only an admin of the
-- barber's shop or that barber (booking.assert_barber_staff).
-- Locks: the key's row (UPDATE). Raises: BK003 barber_not_found, BK012 not_permitted,
--   BK021 calendar_feed_not_found (no such key of that barber).
CREATE OR REPLACE FUNCTION booking.revoke_calendar_key(
    p_barber_id bigint, p_key_id bigint, p_actor_user_id bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM booking.assert_barber_staff(p_barber_id, p_actor_user_id);
    UPDATE booking.calendar_keys k SET revoked_at = now()
     WHERE k.barber_id = p_barber_id AND k.id = p_key_id AND k.revoked_at IS NULL;
    IF FOUND THEN
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM booking.calendar_keys k WHERE k.barber_id = p_barber_id AND k.id = p_key_id) THEN
        RETURN false;
    END IF;
    PERFORM booking.raise_error('calendar_feed_not_found',
        format('Barber %s has no calendar key %s.', p_barber_id, coalesce(p_key_id::text, 'NULL')));
    RETURN false;
END
$$;
