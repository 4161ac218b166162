-- booking.change_feed_slot_name() -> the name of the change feed's replication slot in this
-- database: booking_feed_<database oid> (slot names are per server; the oid keeps two
-- databases of one server apart).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.change_feed_slot_name()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'booking_feed_' || d.oid FROM pg_database d WHERE d.datname = current_database()
$$;
