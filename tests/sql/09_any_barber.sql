-- "Any barber" bookings (p_barber_id NULL): the fair choice, who offers what, and the
-- agreement of free_slots(NULL, ...) with it. The database holds no barber when pgTAP runs
-- (every file rolls back), so this file's barbers are the only ones.
BEGIN;
SELECT plan(16);

INSERT INTO booking.barbers (id, name, timezone) VALUES
    (9101, 'Ann', 'Europe/Paris'), (9102, 'Bob', 'Europe/Paris'), (9103, 'Cy', 'Europe/Paris');
INSERT INTO booking.services (id, name, duration_minutes) VALUES (9101, 'AB Cut', 30), (9102, 'AB Shave', 20);
-- Cy only shaves; Ann and Bob have no barber_services rows, so they offer everything.
INSERT INTO booking.barber_services (barber_id, service_id) VALUES (9103, 9102);
INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)
SELECT b, d, '09:00', '18:00' FROM unnest(ARRAY[9101, 9102, 9103]) b, generate_series(1, 7) d;

SELECT is(booking.candidate_barbers(1, 'AB Cut'), ARRAY[9101, 9102]::bigint[], 'a barber with no rows offers every service');
SELECT is(booking.candidate_barbers(1, 'AB Shave'), ARRAY[9101, 9102, 9103]::bigint[], 'barber_services adds what it lists');
SELECT is(booking.local_start(NULL, '2030-06-03', '10:00'), '2030-06-03 08:00Z'::timestamptz,
          'any barber reads local times in the zone all barbers share');

-- Fewest bookings that local day wins; ties go to the lowest id.
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 1, 'AB Cut', booking.local_start(NULL, '2030-06-03', '10:00'))),
          9101::bigint, 'a tie goes to the lowest barber id');
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 2, 'AB Cut', booking.local_start(NULL, '2030-06-03', '15:00'))),
          9102::bigint, 'then the barber with fewer bookings that day');
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 3, 'AB Cut', booking.local_start(NULL, '2030-06-03', '10:15'))),
          9102::bigint, 'a barber busy then is skipped');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(NULL, 4, 'AB Cut', booking.local_start(NULL, '2030-06-03', '10:20'))$$,
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'when every barber who offers the service is booked: 23P01');
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 4, 'AB Shave', booking.local_start(NULL, '2030-06-03', '10:20'))),
          9103::bigint, 'the barber who only shaves takes a shave when the others are busy');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(NULL, 5, 'AB Cut', booking.local_start(NULL, '2030-06-03', '20:00'))$$,
                 'BK006', NULL, 'when nobody works then: BK006');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(NULL, 5, 'No Such', '2030-06-03 10:00Z')$$,
                 'BK004', NULL, 'an unknown service is BK004');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(NULL, 5, 'AB Cut', '2020-06-03 10:00Z')$$,
                 'BK005', NULL, 'the past is refused before a barber is chosen');

-- Idempotent replays return the first choice.
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 6, 'AB Cut', booking.local_start(NULL, '2030-06-04', '11:00'),
                                                          p_idempotency_key => 'any-1')),
          9101::bigint, 'any barber with a key books');
SELECT is((SELECT (barber_id, replayed)::text FROM booking.book_appointment(NULL, 6, 'AB Cut',
              booking.local_start(NULL, '2030-06-04', '11:00'), p_idempotency_key => 'any-1')),
          '(9101,t)', 'and replays the same barber');

-- free_slots(NULL) offers a start exactly when some candidate is free.
SELECT ok(booking.local_start(NULL, '2030-06-03', '10:00') NOT IN
              (SELECT start_time FROM booking.free_slots(NULL, '2030-06-03', 'AB Cut')),
          'a time when every cutter is busy is not offered for any barber');
SELECT ok(booking.local_start(NULL, '2030-06-03', '10:00') IN
              (SELECT start_time FROM booking.free_slots(NULL, '2030-06-03', 'AB Shave')),
          'but is offered for a shave, which Cy can do');
SELECT throws_ok($$SELECT * FROM booking.free_slots(NULL, '2030-06-03', 'No Such')$$, 'BK004', NULL,
                 'free_slots(NULL) with an unknown service is BK004');

SELECT * FROM finish();
ROLLBACK;
