-- booking.record_booking_attempt(barber, shop, service, start) -> the attempt's id
-- Records a refused booking attempt (a 409: the slot was taken) for the conflict model
-- (app/learning): which barber (NULL: "any barber" of the shop), service and start were
-- wanted, and when. No user. The HTTP service calls it after the refusal, in a transaction
-- of its own, never in the booking's: a booking's path writes nothing for the model. Keeps
-- the table bounded by itself: attempts older than 90 days of the shop are deleted, at most
-- 100 per call (oldest first).
-- Locks: none (an insert, and deletes of old rows). Raises: BK003 barber_not_found, BK014
--   shop_not_found, BK008 invalid_argument (no service or start, a start not before 9999-12-31).
CREATE OR REPLACE FUNCTION booking.record_booking_attempt(
    p_barber_id bigint, p_shop_id bigint, p_service text, p_start timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop_id bigint := coalesce(p_shop_id, 1);
    v_id      bigint;
BEGIN
    IF p_service IS NULL OR p_start IS NULL OR NOT isfinite(p_start) OR p_start >= timestamptz '9999-12-31 00:00:00+00' THEN
        PERFORM booking.raise_error('invalid_argument',
            format('An attempt names a service and a start before 9999-12-31 (got %s at %s).',
                   booking.shown(p_service), coalesce(p_start::text, 'NULL')));
    END IF;
    IF p_barber_id IS NOT NULL THEN
        SELECT b.shop_id INTO v_shop_id FROM booking.barbers b WHERE b.id = p_barber_id;
        IF NOT FOUND THEN
            PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', p_barber_id));
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM booking.shops s WHERE s.id = v_shop_id) THEN
        PERFORM booking.raise_error('shop_not_found', format('No shop has id %s.', v_shop_id));
    END IF;
    INSERT INTO booking.booking_attempts (shop_id, barber_id, service_name, start_time, outcome)
    VALUES (v_shop_id, p_barber_id, left(p_service, 200), p_start, 'conflict')
    RETURNING id INTO v_id;
    DELETE FROM booking.booking_attempts t
     WHERE t.id IN (SELECT o.id FROM booking.booking_attempts o
                     WHERE o.shop_id = v_shop_id AND o.attempted_at < now() - interval '90 days'
                     ORDER BY o.attempted_at LIMIT 100);
    RETURN v_id;
END
$$;
