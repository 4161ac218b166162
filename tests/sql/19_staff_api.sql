-- Staff API (issue 15, part 1): set_working_hours and add_time_off refuse (BK019, naming
-- them) a change that would leave active appointments that have not ended outside the
-- barber's working time, unless p_force; cancelled appointments and expired holds do not
-- count; the hours' version (the ETag) and p_expected_version (BK001); a barber adds
-- their own time off and nobody else's, and may not force; an admin of one shop is nobody
-- in another; the staff readers get_working_hours and list_time_off.
BEGIN;
SELECT plan(30);
\ir fixtures.psql

-- 1. Working hours that would strand an appointment: refused, naming it; force applies them.
-- Barber 9003 (Paris) works Monday 09:00-12:00 and 13:00-18:00: 10:00 Paris is 08:00Z.
SELECT id AS a1 FROM booking.book_appointment(9003, 1001, 'TAP Haircut', '2030-06-03 08:00Z') \gset
SELECT booking.working_hours_version(9003) AS v0 \gset
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9003,
                     '[{"weekday": 1, "opens_at": "13:00", "closes_at": "18:00"}]', 2002)$$,
                 'BK019', pg_temp.msg('BK019'), 'hours that leave an appointment outside are refused');
SELECT matches((SELECT (pg_temp.error_of($$SELECT * FROM booking.set_working_hours(9003,
                     '[{"weekday": 1, "opens_at": "13:00", "closes_at": "18:00"}]', 2002)$$)).detail),
               format('^The new working hours would leave 1 active appointment of barber 9003 outside the working time: %s \(2030-06-03T08:00:00Z to 2030-06-03T08:30:00Z\)\.$', :a1),
               'its DETAIL names the appointment and its time');
SELECT is(booking.working_hours_version(9003), :v0::bigint, 'and the hours are unchanged');
SELECT lives_ok($$SELECT * FROM booking.set_working_hours(9003,
                    '[{"weekday": 1, "opens_at": "09:00", "closes_at": "11:00"},
                      {"weekday": 1, "opens_at": "14:00", "closes_at": "18:00"}]', 2002)$$,
                'split shifts that still cover it are accepted');
SELECT isnt(booking.working_hours_version(9003), :v0::bigint, 'a replacement changes the version');
SELECT lives_ok($$SELECT * FROM booking.set_working_hours(9003,
                    '[{"weekday": 1, "opens_at": "13:00", "closes_at": "18:00"}]', 2002, p_force => true)$$,
                'force applies hours that strand it');
SELECT is((SELECT status FROM booking.appointments WHERE id = :a1), 'scheduled', 'and leaves the appointment as it was');
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9003, '[]', 2002, p_force => NULL)$$,
                 'BK008', pg_temp.msg('BK008'), 'force is true or false');

-- 2. What does not count: a cancelled appointment, an expired hold; an appointment of another barber.
SELECT booking.cancel_appointment(:a1, 1001) IS NOT NULL AS cancelled \gset
SELECT id AS h1 FROM booking.hold_slot(9003, 1002, 'TAP Haircut', '2030-06-03 14:00Z') \gset
UPDATE booking.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = :h1;
SELECT lives_ok($$SELECT * FROM booking.set_working_hours(9003,
                    '[{"weekday": 2, "opens_at": "10:00", "closes_at": "14:00"}]', 2002)$$,
                'a cancelled appointment and an expired hold strand nothing');
UPDATE booking.appointments SET hold_expires_at = now() + interval '5 minutes', status = 'held' WHERE id = :h1;
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9003, '[{"weekday": 3, "opens_at": "10:00", "closes_at": "14:00"}]', 2002)$$,
                 'BK019', pg_temp.msg('BK019'), 'a live hold counts like an appointment');

-- 3. The DETAIL is bounded: how many, and the first 10.
SELECT count(*) AS booked FROM generate_series(0, 11) AS h
 CROSS JOIN LATERAL booking.book_appointment(9002, 1001, 'TAP Haircut', timestamptz '2030-06-04 00:00Z' + make_interval(hours => h)) b \gset
SELECT matches((pg_temp.error_of($$SELECT * FROM booking.set_working_hours(9002,
                     '[{"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"}]', 2002)$$)).detail,
               '^The new working hours would leave 12 active appointments of barber 9002 outside the working time, the first 10: ',
               'twelve stranded: the DETAIL says 12 and lists the first 10');
SELECT is(array_length(regexp_split_to_array((pg_temp.error_of($$SELECT * FROM booking.set_working_hours(9002,
                     '[{"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"}]', 2002)$$)).detail, '\), '), 1), 10,
          'ten of them');

-- 4. The version and p_expected_version.
SELECT booking.working_hours_version(9005) AS v5 \gset
SELECT is(:v5::bigint, 0::bigint, 'a barber without hours is at version 0');
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9005, '[{"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"}]', 2002,
                     p_expected_version => 42)$$,
                 'BK001', pg_temp.msg('BK001'), 'a stale expected version is BK001');
SELECT lives_ok($$SELECT * FROM booking.set_working_hours(9005, '[{"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"}]', 2002,
                    p_expected_version => 0)$$, 'the current one applies');
SELECT is((SELECT array_agg(row(weekday, opens_at, closes_at, version)::text) FROM booking.get_working_hours(9005, 2002)),
          ARRAY[row(1, time '09:00', time '17:00', booking.working_hours_version(9005))::text],
          'get_working_hours answers the rows and the version');

-- 5. Time off over an appointment: refused, naming it; force adds it.
SELECT id AS a2 FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-05 10:00Z') \gset
SELECT throws_ok($$SELECT booking.add_time_off(9001, '2030-06-05 09:00Z', '2030-06-05 12:00Z', 'Dentist', 2002)$$,
                 'BK019', pg_temp.msg('BK019'), 'time off that covers an appointment is refused');
SELECT matches((pg_temp.error_of($$SELECT booking.add_time_off(9001, '2030-06-05 09:00Z', '2030-06-05 12:00Z', NULL, 2002)$$)).detail,
               format('^This time off would leave 1 active appointment of barber 9001 outside the working time: %s ', :a2),
               'naming it');
SELECT lives_ok($$SELECT booking.add_time_off(9001, '2030-06-05 10:30Z', '2030-06-05 12:00Z', NULL, 2002)$$,
                'time off that only touches its end is accepted');
SELECT lives_ok($$SELECT booking.add_time_off(9001, '2030-06-05 09:00Z', '2030-06-05 10:15Z', NULL, 2002, true)$$,
                'force adds time off over it');

-- 6. A barber adds their own time off, nobody else's, and may not force; a client may not.
SELECT set_config('booking.acting_role', 'barber', true);
SELECT lives_ok($$SELECT booking.add_time_off(9001, '2030-06-06 09:00Z', '2030-06-06 10:00Z', 'Own', 2001)$$,
                'barber 2001 adds time off of their own barber 9001');
SELECT throws_ok($$SELECT booking.add_time_off(9002, '2030-06-06 09:00Z', '2030-06-06 10:00Z', NULL, 2001)$$,
                 'BK012', pg_temp.msg('BK012'), 'and not of another barber');
SELECT throws_ok($$SELECT booking.add_time_off(9001, '2030-06-07 09:00Z', '2030-06-07 10:00Z', NULL, 2001, true)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor force');
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9001, '[]', 2001)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor set working hours');
SELECT is((SELECT count(*)::int FROM booking.list_time_off(9001, 2001) WHERE reason = 'Own'), 1,
          'and reads their time off');
SELECT set_config('booking.acting_role', 'client', true);
SELECT throws_ok($$SELECT booking.add_time_off(9001, '2030-06-06 11:00Z', '2030-06-06 12:00Z', NULL, 1001)$$,
                 'BK012', pg_temp.msg('BK012'), 'a client may not add time off');
SELECT set_config('booking.acting_role', 'admin', true);
SELECT throws_ok($$SELECT booking.add_time_off(9001, '2030-06-06 11:00Z', '2030-06-06 12:00Z', NULL, 2001)$$,
                 'BK012', pg_temp.msg('BK012'), 'a barber acting as admin is no admin');

-- 7. An admin of one shop is nobody in another.
SELECT id AS s2 FROM booking.create_shop('TAP Second', 'UTC', 3001) \gset
SELECT id AS b2 FROM booking.create_barber(:s2, 'TAP Second barber', NULL, 3001) \gset
SELECT lives_ok(format($$SELECT * FROM booking.set_working_hours(%s, '[{"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"}]', 3001)$$, :b2),
                'the admin of shop 2 sets hours of its barber');
SELECT throws_ok($$SELECT * FROM booking.set_working_hours(9005, '[]', 3001)$$,
                 'BK012', pg_temp.msg('BK012'), 'and not of a barber of shop 1');
SELECT throws_ok($$SELECT * FROM booking.get_working_hours(9005, 3001)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor reads them');

SELECT * FROM finish();
ROLLBACK;
