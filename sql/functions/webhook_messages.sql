-- booking.webhook_messages(events) -> (event_id, message_id, event_type, appointment_id,
--   version, event_at, data)
-- The one rule of what the change feed tells webhooks: one message per change of an
-- appointment (the feed has one event per barber concerned; a move between barbers is one
-- message, from the event of the appointment's barber after the change), for the kinds
-- booked, changed and cancelled (a hold and its release are not appointments yet: a
-- confirmed hold is 'booked'). message_id is 'evt_<appointment>_<version>', the same
-- wherever and however often it is delivered; event_at is the change's commit time; data
-- is the appointment as booking.appointment_records shows it when the message is queued,
-- just after the commit (when later changes committed in between, data already shows them:
-- data.version says which; their own messages follow). data is NULL when the row is not
-- visible yet: the relay may decode a commit from the WAL a moment before the committed
-- row is visible to new snapshots (the commit record is written before the transaction
-- leaves the process array); the claim reads the row then.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.webhook_messages(p_events booking.appointment_events[])
RETURNS TABLE (event_id bigint, message_id text, event_type text, appointment_id bigint, version int,
               event_at timestamptz, data jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET "TimeZone" = 'UTC'
AS $$
    SELECT e.id, format('evt_%s_%s', e.appointment_id, e.version), 'appointment.' || e.kind,
           e.appointment_id, e.version, e.created_at, to_jsonb(r)
      FROM unnest(p_events) AS e
      LEFT JOIN booking.appointment_records r ON r.id = e.appointment_id
     WHERE e.kind IN ('booked', 'changed', 'cancelled')
       AND e.barber_id = (e.payload->>'barber_id')::bigint
$$;
