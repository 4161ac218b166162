-- Rolls back 0016.calendar_keys.sql: the feed's functions and its keys (every issued key
-- stops working; calendar apps get 404).
DROP FUNCTION IF EXISTS booking.calendar_feed(bigint, bigint, bytea, timestamptz, timestamptz);
DROP FUNCTION IF EXISTS booking.issue_calendar_key(bigint, bytea, bigint);
DROP FUNCTION IF EXISTS booking.revoke_calendar_key(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS booking.assert_calendar_manager(bigint, bigint);
DROP TABLE IF EXISTS booking.calendar_keys;
