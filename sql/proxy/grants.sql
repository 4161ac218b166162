-- Privileges of a cluster's proxy code (after sql/grants.sql and the proxy's functions).
-- The routed booking.* functions keep the grants sql/grants.sql gave their originals; they
-- run as their caller (SECURITY INVOKER), who therefore needs the routing helpers and the
-- PL/Proxy functions they call, and USAGE on the foreign server booking_cluster (granted
-- by app/cluster.py when it writes the server). A PL/Proxy function runs on the partition
-- as the login its caller's user mapping names (app/cluster.py): booking_app as
-- booking_app, everyone else as booking_cluster, which holds booking_client's rights there.
ALTER SCHEMA booking_proxy OWNER TO booking_owner;
-- Owned by booking_owner like the engine's functions (the SECURITY DEFINER helpers run as
-- it); the PL/Proxy functions too, which run on the partitions as the caller's mapping says.
DO $$
DECLARE
    o record;
BEGIN
    FOR o IN SELECT p.oid::regprocedure AS f FROM pg_proc p WHERE p.pronamespace = 'booking_proxy'::regnamespace LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO booking_owner', o.f);
    END LOOP;
    ALTER TABLE booking_proxy.shop_directory OWNER TO booking_owner;
END
$$;
REVOKE ALL ON SCHEMA booking_proxy FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA booking_proxy FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA booking_proxy FROM PUBLIC;
GRANT USAGE ON SCHEMA booking_proxy TO booking_app, booking_client, booking_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA booking_proxy TO booking_app, booking_client, booking_owner;
-- Placing a shop and granting staff roles on the partitions: only through booking.create_shop
-- and booking.create_api_token (SECURITY DEFINER, owned by booking_owner).
REVOKE EXECUTE ON FUNCTION booking_proxy.create_shop_at(int, bigint, text, text, bigint),
    booking_proxy.grant_staff_role(bigint, text, bigint, bigint, int),
    booking_proxy.install_route(regprocedure, text, text)
    FROM booking_app, booking_client;
GRANT SELECT, INSERT, UPDATE ON booking_proxy.shop_directory TO booking_owner;
-- Which partition holds a shop is no secret, and every routed call reads it
-- (booking_proxy.enter_shop runs as its caller).
GRANT SELECT ON booking_proxy.shop_directory TO booking_app, booking_client;
