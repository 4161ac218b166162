-- The proxy database of a cluster (docs/SCALING.md). It is migrated like any booking
-- database (so it has the catalogue, the pure functions, the shop list and the tokens), then
-- `python -m app cluster up` (app/cluster.py) applies this file, creates the foreign
-- server booking_cluster (PL/Proxy's cluster: one connection string per partition) and
-- replaces every function that reads or writes a shop's rows by a routed one
-- (sql/proxy/routes.csv, booking_proxy.install_route). Re-applied on every migrate of a
-- proxy; running it twice changes nothing.
--
-- What lives here: booking.shops (every shop, the directory's key), booking.staff and
-- booking.api_tokens (who may do what: authenticate_token answers here, without a
-- partition), and booking_proxy.shop_directory (which partition holds a shop). What does
-- not: barbers, services, hours, time off, appointments, keys, events; their tables stay
-- empty, and a CHECK refuses any row.
CREATE EXTENSION IF NOT EXISTS plproxy;
CREATE SCHEMA IF NOT EXISTS booking_proxy AUTHORIZATION booking_owner;

CREATE TABLE IF NOT EXISTS booking_proxy.shop_directory (
    shop_id    bigint PRIMARY KEY REFERENCES booking.shops (id),
    partition  int NOT NULL CONSTRAINT shop_directory_partition_range CHECK (partition BETWEEN 0 AND 63),
    -- true while `cluster move-shop` copies the shop: its calls fail with BK015 shop_moving.
    moving     boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS shop_directory_partition_idx ON booking_proxy.shop_directory (partition);
INSERT INTO booking_proxy.shop_directory (shop_id, partition) VALUES (1, 0) ON CONFLICT DO NOTHING;
-- The proxy numbers shops for every partition (booking.create_shop here).
DO $$
BEGIN
    PERFORM setval(pg_get_serial_sequence('booking.shops', 'id'),
                   greatest((SELECT max(id) FROM booking.shops), 1));
END
$$;

-- Barbers live on partitions: the proxy's copies of staff roles and tokens name barbers it
-- does not have (booking.grant_staff_role checked them where they live).
ALTER TABLE booking.staff DROP CONSTRAINT IF EXISTS staff_barber_id_fkey;
ALTER TABLE booking.api_tokens DROP CONSTRAINT IF EXISTS api_tokens_barber_id_fkey;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['barbers', 'services', 'appointments'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                        WHERE conrelid = format('booking.%I', t)::regclass AND conname = t || '_live_on_partitions') THEN
            EXECUTE format('ALTER TABLE booking.%I ADD CONSTRAINT %I CHECK (false) NOT VALID', t, t || '_live_on_partitions');
        END IF;
    END LOOP;
END
$$;
