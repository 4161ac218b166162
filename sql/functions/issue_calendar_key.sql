-- booking.issue_calendar_key(barber, sha-256 of the key, actor) -> the key's id
-- Records a new secret key for barber p_barber_id's calendar feed (GET
-- /barbers/{id}/calendar.ics?key=...), only as its SHA-256: the caller makes the key
-- (app/calendar.py: 256 random bits) and shows it once. Only an admin of the barber's shop
-- or that barber may issue one (booking.assert_barber_staff). A key reads that barber's
-- feed and nothing else: no client ids, no notes (booking.calendar_feed). At most 20
-- unrevoked keys per barber (revoke one first), so keys cannot pile up.
-- The key's id is unique per barber (keys are addressed as (barber, id)).
-- Locks: the barber's row FOR UPDATE (concurrent issues for one barber count in turn), the
--   new key's row. Raises: BK003 barber_not_found, BK012 not_permitted, BK008
--   invalid_argument (a hash that is not 32 bytes, too many keys).
CREATE OR REPLACE FUNCTION booking.issue_calendar_key(
    p_barber_id bigint, p_key_hash bytea, p_actor_user_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM booking.assert_barber_staff(p_barber_id, p_actor_user_id);
    IF p_key_hash IS NULL OR length(p_key_hash) <> 32 THEN
        PERFORM booking.raise_error('invalid_argument', 'A calendar key is stored as its SHA-256: 32 bytes.');
    END IF;
    PERFORM 1 FROM booking.barbers b WHERE b.id = p_barber_id FOR UPDATE;
    IF (SELECT count(*) FROM booking.calendar_keys k WHERE k.barber_id = p_barber_id AND k.revoked_at IS NULL) >= 20 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Barber %s has 20 calendar keys already: revoke one first.', p_barber_id));
    END IF;
    INSERT INTO booking.calendar_keys (barber_id, key_hash, created_by)
    VALUES (p_barber_id, p_key_hash, p_actor_user_id)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
