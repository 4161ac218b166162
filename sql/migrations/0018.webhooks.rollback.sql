-- Rolls back 0018.webhooks.sql (subscriptions and deliveries are lost; nothing else). The
-- previous functions come back with the previous checkout's sql/functions/.
DROP TRIGGER IF EXISTS appointment_events_queue_webhooks ON booking.appointment_events;
DROP FUNCTION IF EXISTS booking.queue_webhook_deliveries();
DROP FUNCTION IF EXISTS booking.webhook_messages(booking.appointment_events[]);
DROP FUNCTION IF EXISTS booking.assert_webhook_admin(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS booking.delete_webhook(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS booking.send_test_webhook(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS booking.list_webhook_deliveries(bigint, bigint, text, timestamptz, int, bigint);
DROP FUNCTION IF EXISTS booking.claim_webhook_deliveries(int, double precision);
DROP FUNCTION IF EXISTS booking.finish_webhook_delivery(bigint, text, int, int, text, double precision, double precision, double precision);
DROP FUNCTION IF EXISTS booking.webhook_backlog();
DROP FUNCTION IF EXISTS booking.purge_webhook_deliveries();
DROP FUNCTION IF EXISTS booking.new_webhook_secret();
DROP TABLE IF EXISTS booking.webhook_deliveries;
DROP TABLE IF EXISTS booking.webhook_subscriptions;
-- and the functions answering the type (webhook_records, create, list, rotate, disable, enable)
DROP TYPE IF EXISTS booking.webhook_record CASCADE;
