-- booking_proxy.partitions_for(partition) -> SETOF int: where a merged route runs
-- The PL/Proxy functions of routes with a merge clause (sql/proxy/routes.csv,
-- booking_proxy.install_route) run ON this: the given partition, or, for NULL (the call
-- names no shop), every partition of the cluster (booking_proxy.partitions()).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking_proxy.partitions_for(p_partition int)
RETURNS SETOF int
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_partition WHERE p_partition IS NOT NULL
    UNION ALL
    SELECT p.partition FROM booking_proxy.partitions() p WHERE p_partition IS NULL
$$;
