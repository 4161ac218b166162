-- booking_proxy.partitions() -> (partition, connection string), one row per partition
-- From the foreign server booking_cluster (PL/Proxy's cluster definition, written by
-- `python -m app cluster up`). The service reads it to follow every partition's change
-- feed and health; the connection strings carry no password (trust or a .pgpass).
-- Locks: none. Raises: nothing (no rows without a cluster definition).
CREATE OR REPLACE FUNCTION booking_proxy.partitions()
RETURNS TABLE (partition int, connection text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT (regexp_match(o, '^p(\d+)='))[1]::int AS partition, substr(o, strpos(o, '=') + 1) AS connection
    FROM pg_foreign_server s, unnest(s.srvoptions) AS o
    WHERE s.srvname = 'booking_cluster' AND o ~ '^p\d+='
    ORDER BY 1;
END;
