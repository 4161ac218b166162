-- Rolls back 0011.partitions.sql. The previous functions come back with the previous
-- checkout's sql/functions/ (`make migrate` of that commit). A partition of a cluster
-- cannot be rolled back alone: its ids would no longer say where they belong.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM booking.partition_membership) THEN
        RAISE EXCEPTION 'this database is a partition of a cluster: 0011.partitions cannot be rolled back here';
    END IF;
END
$$;
DROP TRIGGER IF EXISTS barbers_id_from_shop ON booking.barbers;
DROP TRIGGER IF EXISTS services_id_from_shop ON booking.services;
DROP TRIGGER IF EXISTS appointments_id_from_shop ON booking.appointments;
DROP FUNCTION IF EXISTS booking.id_from_shop() CASCADE;
DROP FUNCTION IF EXISTS booking.shop_of_id(bigint);
DROP FUNCTION IF EXISTS booking.create_shop_at(bigint, text, text, bigint);
DROP FUNCTION IF EXISTS booking.grant_staff_role(bigint, text, bigint, bigint, int);
DROP FUNCTION IF EXISTS booking.store_staff_role(bigint, text, bigint, bigint);
DROP FUNCTION IF EXISTS booking.store_api_token(bytea, bigint, text, bigint, timestamptz, bigint);
DROP FUNCTION IF EXISTS booking.join_cluster(int);
DROP FUNCTION IF EXISTS booking.this_partition();
DROP FUNCTION IF EXISTS booking.list_barbers(bigint);
DROP FUNCTION IF EXISTS booking.list_services(bigint);
DROP FUNCTION IF EXISTS booking.get_barber(bigint);
ALTER TABLE booking.shops DROP CONSTRAINT shops_id_range;
ALTER TABLE booking.appointments DROP CONSTRAINT appointments_id_carries_shop;
ALTER TABLE booking.services DROP CONSTRAINT services_id_carries_shop;
ALTER TABLE booking.barbers DROP CONSTRAINT barbers_id_carries_shop;
DROP TABLE booking.partition_membership;
