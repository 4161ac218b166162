-- booking.set_service_buffers(barber, service, buffer before, buffer after, basis, actor)
--   -> the default now in force: (barber_id, service, buffer_time_before, buffer_time_after,
--      basis, set_by, set_at); no row when it was removed
-- The default buffers of the barber's new bookings of the service: a booking, hold, series
-- or slot search of that barber and service that gives no buffer gets these
-- (booking.place_appointment, booking.free_slots, the "any barber" choice). Appointments
-- already booked keep theirs. Both buffers NULL remove the default (0 again). p_basis is
-- what the default came from (POST /barbers/{id}/buffer-recommendations/apply stores the
-- recommendation of app/learning: sample size, quantile, interval), a JSON object of at most
-- 4000 characters, or NULL for buffers set by hand.
-- Who: an admin of the barber's shop (booking.assert_shop_admin, acting as an admin); a
-- NULL actor is a trusted internal caller, refused for booking_app.
-- Locks: the default's row (upsert). Raises: BK003 barber_not_found, BK004 service_not_found,
--   BK013 service_not_offered, BK008 invalid_argument, BK014 shop_not_found, BK012 not_permitted.
CREATE OR REPLACE FUNCTION booking.set_service_buffers(
    p_barber_id     bigint,
    p_service       text,
    p_buffer_before int,
    p_buffer_after  int,
    p_basis         jsonb DEFAULT NULL,
    p_actor_user_id bigint DEFAULT NULL)
RETURNS TABLE (barber_id bigint, service text, buffer_time_before int, buffer_time_after int, basis jsonb,
               set_by bigint, set_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_shop_id    bigint;
    v_service_id bigint;
BEGIN
    SELECT b.shop_id INTO v_shop_id FROM booking.barbers b WHERE b.id = p_barber_id;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('barber_not_found', format('No barber has id %s.', coalesce(p_barber_id::text, 'NULL')));
    END IF;
    PERFORM booking.assert_shop_admin(v_shop_id, p_actor_user_id);
    SELECT s.id INTO v_service_id FROM booking.services s WHERE s.shop_id = v_shop_id AND s.name = p_service;
    IF NOT FOUND THEN
        PERFORM booking.raise_error('service_not_found', format('No service is named %s%s.', booking.shown(p_service),
            CASE WHEN v_shop_id = 1 THEN '' ELSE ' in shop ' || v_shop_id END));
    END IF;
    IF NOT booking.offers(p_barber_id, p_service) THEN
        PERFORM booking.raise_error('service_not_offered',
            format('Barber %s does not offer %s.', p_barber_id, booking.shown(p_service)));
    END IF;
    IF (p_buffer_before IS NULL) <> (p_buffer_after IS NULL)
       OR p_buffer_before NOT BETWEEN 0 AND 1440 OR p_buffer_after NOT BETWEEN 0 AND 1440 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('Default buffers are whole minutes from 0 to 1440, both given or both NULL (got %s before, %s after).',
                   coalesce(p_buffer_before::text, 'NULL'), coalesce(p_buffer_after::text, 'NULL')));
    END IF;
    IF p_basis IS NOT NULL AND (jsonb_typeof(p_basis) <> 'object' OR length(p_basis::text) > 4000) THEN
        PERFORM booking.raise_error('invalid_argument',
            format('The basis is a JSON object of at most 4000 characters (got %s, %s characters).',
                   jsonb_typeof(p_basis), length(p_basis::text)));
    END IF;
    IF p_buffer_before IS NULL THEN
        DELETE FROM booking.barber_service_buffers d WHERE d.barber_id = p_barber_id AND d.service_id = v_service_id;
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO booking.barber_service_buffers AS d
        (barber_id, service_id, buffer_time_before, buffer_time_after, basis, set_by, set_at)
    VALUES (p_barber_id, v_service_id, p_buffer_before, p_buffer_after, p_basis, p_actor_user_id, now())
    ON CONFLICT ON CONSTRAINT barber_service_buffers_pkey DO UPDATE
        SET buffer_time_before = EXCLUDED.buffer_time_before, buffer_time_after = EXCLUDED.buffer_time_after,
            basis = EXCLUDED.basis, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at
    RETURNING d.barber_id, p_service, d.buffer_time_before, d.buffer_time_after, d.basis, d.set_by, d.set_at;
END
$$;
