-- booking.queue_webhook_deliveries() -> trigger, AFTER INSERT ON booking.appointment_events
-- FOR EACH STATEMENT: queues a delivery of each new message (booking.webhook_messages) for
-- every enabled subscription of the appointment's shop that wants its type. Only the relay
-- inserts events, after the change committed, so this runs in the relay's transaction and
-- never in a booking's: a rolled-back booking has no event and no delivery, a committed one
-- gets both when the relay records it (and the relay records every committed change, even
-- after a crash: the slot or the outbox keeps it). Deliveries are queued in the feed's
-- order; a message already queued for a subscription is not queued again.
-- Rows a shop move copies (session_replication_role = replica) do not fire it: their
-- deliveries move with them.
-- Locks: none beyond the inserted rows. Raises: nothing of its own.
CREATE OR REPLACE FUNCTION booking.queue_webhook_deliveries()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the usual case: no shop has a webhook, and an event costs nothing more
    IF NOT EXISTS (SELECT 1 FROM booking.webhook_subscriptions w WHERE w.disabled_at IS NULL) THEN
        RETURN NULL;
    END IF;
    INSERT INTO booking.webhook_deliveries AS d
           (webhook_id, message_id, shop_id, event_type, appointment_id, version, event_at, data)
    SELECT w.id, m.message_id, w.shop_id, m.event_type, m.appointment_id, m.version, m.event_at, m.data
      FROM booking.webhook_messages(ARRAY(SELECT n::booking.appointment_events FROM new_events n ORDER BY n.id)) AS m
      JOIN booking.webhook_subscriptions w
        ON w.shop_id = booking.shop_of_id(m.appointment_id) AND w.disabled_at IS NULL AND m.event_type = ANY (w.events)
     ORDER BY m.event_id, w.id
    ON CONFLICT (webhook_id, message_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER appointment_events_queue_webhooks
    AFTER INSERT ON booking.appointment_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION booking.queue_webhook_deliveries();
