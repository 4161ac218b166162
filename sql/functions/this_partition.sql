-- booking.this_partition() -> int: this database's partition number in a cluster, or NULL
-- on a database that is no partition (booking.partition_membership, written once by
-- booking.join_cluster()).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.this_partition()
RETURNS int
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT m.partition FROM booking.partition_membership m);
