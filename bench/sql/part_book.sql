-- book_appointment, uncontended, for the partitioned scenario: run on a partition directly
-- or on the proxy, the same text. The booking number n is pgbench's own (no sequence: a
-- nextval would be a write of the proxy's, which one database does not pay): each client
-- counts its bookings in :i (a pgbench variable lives as long as the client), and every run
-- gets a :base of its own, so no two bookings of a run or of two runs meet. Booking n goes
-- to shop n % :shops (its barbers :b0 + :step0 * j or :b1 + :step1 * j) and to barber
-- j = (n / :shops) % :per_shop; its slot is the (n / (:shops * :per_shop))-th half hour
-- from 2030-01-01: with one shop of 1,000 barbers, unc_book.sql's mapping.
\set i :i + 1
\set n :base + :i * :clients + :client_id
\set s :n % :shops
\set j (:n / :shops) % :per_shop
\set barber case when :s = 0 then :b0 + :step0 * :j else :b1 + :step1 * :j end
\set slot :n / (:shops * :per_shop)
SELECT b.id
FROM booking.book_appointment(:barber::bigint, 1, 'Haircut',
                              timestamptz '2030-01-01 00:00Z' + :slot::int * interval '30 minutes') b;
