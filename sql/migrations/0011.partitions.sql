-- depends: 0010.shops
-- Partitions (issue 14): the same schema runs as one database or as one partition of a
-- cluster behind a PL/Proxy database (docs/SCALING.md). Two things make a shop's rows
-- movable and every call routable from its arguments alone:
--
-- * Ids carry their shop. A barber, service or appointment id is shop_id * 2^40 + n (n
--   from the table's own sequence, below 2^40), except in the default shop 1, whose ids
--   are n itself, as they always were. booking.shop_of_id(id) reads the shop back; a CHECK
--   keeps every new row honest and a trigger composes the id of a row that names a shop
--   other than 1 with a plain sequence value (raw INSERTs included).
-- * A partition knows its number (booking.partition_membership, written by
--   `python -m app cluster up`), and its sequences step by 64 from a residue of their own,
--   so rows copied in from another partition (a moved shop) never collide with new ones.
--
-- Rows of non-default shops made before this migration keep their ids (they are not
-- checked: NOT VALID): a single database never routes by id. A cluster is always made
-- from fresh partitions.
CREATE TABLE booking.partition_membership (
    partition  int PRIMARY KEY CONSTRAINT partition_membership_range CHECK (partition BETWEEN 0 AND 63),
    joined_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one row: a database is one partition or none.
CREATE UNIQUE INDEX partition_membership_one_row ON booking.partition_membership ((true));

ALTER TABLE booking.barbers ADD CONSTRAINT barbers_id_carries_shop
    CHECK ((CASE WHEN id < 1099511627776 THEN 1 ELSE id >> 40 END) = shop_id) NOT VALID;
ALTER TABLE booking.services ADD CONSTRAINT services_id_carries_shop
    CHECK ((CASE WHEN id < 1099511627776 THEN 1 ELSE id >> 40 END) = shop_id) NOT VALID;
ALTER TABLE booking.appointments ADD CONSTRAINT appointments_id_carries_shop
    CHECK ((CASE WHEN id < 1099511627776 THEN 1 ELSE id >> 40 END) = shop_id) NOT VALID;
-- Shop ids fit the 23 bits above n.
ALTER TABLE booking.shops ADD CONSTRAINT shops_id_range CHECK (id BETWEEN 1 AND 8388607) NOT VALID;
