-- booking.book_appointment(): the success path, the buffer-aware overlap rule of
-- contract.md section 1, and every validation error (BK003..BK008).
BEGIN;
SELECT plan(52);
\ir fixtures.psql

-- The contract's example: a 30-minute Haircut at 10:00 with 15/15 buffers blocks 09:45-10:45.
SELECT id AS haircut_id FROM booking.book_appointment(
    p_barber_id => 9001, p_user_id => 1001, p_service => 'TAP Haircut', p_start => '2030-06-03 10:00Z',
    p_buffer_before => 15, p_buffer_after => 15, p_notes => 'First visit') \gset

SELECT results_eq(
    format($$SELECT barber_id, user_id, service_name, start_time, duration_minutes, buffer_time_before,
                    buffer_time_after, status, notes, version
               FROM booking.appointments WHERE id = %s$$, :haircut_id),
    $$VALUES (9001::bigint, 1001::bigint, 'TAP Haircut'::text, '2030-06-03 10:00Z'::timestamptz, 30, 15, 15,
              'scheduled'::text, 'First visit'::text, 1)$$,
    'the booking is stored with the service''s duration, its buffers, status scheduled and version 1');
SELECT is((SELECT blocked_during FROM booking.appointments WHERE id = :haircut_id),
          tstzrange('2030-06-03 09:45Z', '2030-06-03 10:45Z', '[)'),
          'it blocks 09:45-10:45');
SELECT is((SELECT count(*)::int FROM booking.appointments WHERE barber_id = 9001), 1, 'exactly one row was created');

-- What the call returns: the appointment's columns plus replayed = false.
SELECT results_eq(
    $$SELECT status, version, replayed, duration_minutes, start_time
        FROM booking.book_appointment(p_barber_id => 9002, p_user_id => 1001, p_service => 'TAP Full',
                                      p_start => '2030-06-03 10:00Z')$$,
    $$VALUES ('scheduled'::text, 1, false, 60, '2030-06-03 10:00Z'::timestamptz)$$,
    'book_appointment returns the new row with version 1 and replayed = false');
SELECT results_eq(
    $$SELECT buffer_time_before, buffer_time_after, notes IS NULL
        FROM booking.appointments WHERE barber_id = 9002$$,
    $$VALUES (0, 0, true)$$,
    'omitted buffers default to 0 (no default buffers set for the barber) and omitted notes to NULL');
SELECT results_eq(
    $$SELECT buffer_time_before, buffer_time_after
        FROM booking.book_appointment(9005, 1002, 'TAP Shave', '2030-06-03 16:00Z', NULL, 5)$$,
    $$VALUES (0, 5)$$,
    'a NULL buffer is the barber''s default for the service, 0 without one (BK008 before issue 18)');
SELECT lives_ok(
    $$SELECT * FROM booking.book_appointment(p_start => '2030-06-03 12:00Z', p_service => 'TAP Shave',
                                             p_notes => NULL, p_user_id => 1002, p_barber_id => 9002)$$,
    'named notation works in any order');

-- 30-minute bookings without buffers: 09:30, 10:15 and 10:30 conflict; 09:00 and 11:00 do not.
SELECT throws_ok(
    format($$SELECT * FROM booking.book_appointment(p_barber_id => 9001, p_user_id => 1002,
                                                    p_service => 'TAP Haircut', p_start => %L)$$, t),
    '23P01', 'This time slot conflicts with an existing appointment',
    format('a 30-minute booking at %s conflicts with the 10:00 Haircut and its buffers', t))
FROM unnest(ARRAY['2030-06-03 09:30Z', '2030-06-03 10:15Z', '2030-06-03 10:30Z']) AS t;
SELECT throws_ok(
    $$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 10:00Z')$$,
    '23P01', 'This time slot conflicts with an existing appointment',
    'the very same start conflicts');
SELECT throws_ok(
    $$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Full', '2030-06-03 09:30Z')$$,
    '23P01', 'This time slot conflicts with an existing appointment',
    'a longer booking that encloses the whole blocked interval conflicts');
SELECT is((pg_temp.error_of($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 10:15Z')$$)).detail,
          format('Appointment %s blocks 2030-06-03T09:45:00Z to 2030-06-03T10:45:00Z.', :haircut_id),
          'the 23P01 DETAIL names the conflicting appointment and the interval it blocks');
SELECT lives_ok(
    format($$SELECT * FROM booking.book_appointment(p_barber_id => 9001, p_user_id => 1002,
                                                    p_service => 'TAP Haircut', p_start => %L)$$, t),
    format('a 30-minute booking at %s does not conflict', t))
FROM unnest(ARRAY['2030-06-03 09:00Z', '2030-06-03 11:00Z']) AS t;

-- Touching intervals do not conflict; buffers of the new booking count too.
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 14:00Z', 15, 15)$$,
                'barber 9002 is booked 13:45-14:45');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1002, 'TAP Shave', '2030-06-03 13:30Z')$$,
                'a booking ending exactly at 13:45 touches and does not conflict');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1002, 'TAP Shave', '2030-06-03 14:45Z')$$,
                'a booking starting exactly at 14:45 touches and does not conflict');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1002, 'TAP Shave', '2030-06-03 15:05Z', 6, 0)$$,
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a booking whose own buffer_before reaches into the previous one conflicts');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1002, 'TAP Shave', '2030-06-03 13:00Z', 0, 16)$$,
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a booking whose own buffer_after reaches into the next one conflicts');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1002, 'TAP Shave', '2030-06-03 13:00Z', 0, 0)$$,
                'without that buffer it fits');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9004, 1002, 'TAP Haircut', '2030-06-03 10:00Z', 15, 15)$$,
                'another barber is free at the same time');

-- BK003, BK004, BK005.
SELECT throws_ok($$SELECT * FROM booking.book_appointment(8999999, 1001, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                 'BK003', pg_temp.msg('BK003'), 'an unknown barber is BK003');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'Perm', '2030-06-03 10:00Z')$$,
                 'BK004', pg_temp.msg('BK004'), 'an unknown service is BK004');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'tap haircut', '2030-06-03 10:00Z')$$,
                 'BK004', pg_temp.msg('BK004'), 'service names are matched exactly');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', now() - interval '1 minute')$$,
                 'BK005', pg_temp.msg('BK005'), 'a start one minute ago is BK005');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2001-01-01 10:00Z')$$,
                 'BK005', pg_temp.msg('BK005'), 'a start years ago is BK005');

-- BK006: barber 9003 works Monday 09:00-12:00 and 13:00-18:00, Tuesday 10:00-14:00, Paris
-- time (UTC+2 in June). Buffers are the barber's own time and do not have to fit.
SELECT lives_ok(format($$SELECT * FROM booking.book_appointment(9003, 1001, 'TAP Haircut', %L)$$, t),
                format('%s Paris time is within the working hours', d))
FROM (VALUES
    ('2030-06-03 07:00Z', 'Monday 09:00, when the first shift opens,'),
    ('2030-06-03 09:30Z', 'Monday 11:30-12:00, ending when the first shift closes,'),
    ('2030-06-03 11:00Z', 'Monday 13:00, in the second shift,'),
    ('2030-06-03 15:30Z', 'Monday 17:30-18:00, ending when the second shift closes,'),
    ('2030-06-04 08:00Z', 'Tuesday 10:00')
) AS v(t, d);
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(9003, 1002, 'TAP Haircut', %L)$$, t),
                 'BK006', pg_temp.msg('BK006'),
                 format('%s Paris time is outside the working hours: BK006', d))
FROM (VALUES
    ('2030-06-03 06:30Z', 'Monday 08:30, before opening,'),
    ('2030-06-03 09:45Z', 'Monday 11:45-12:15, running past the first shift,'),
    ('2030-06-03 10:15Z', 'Monday 12:15, the lunch break,'),
    ('2030-06-03 10:45Z', 'Monday 12:45-13:15, straddling the break,'),
    ('2030-06-03 15:45Z', 'Monday 17:45-18:15, running past closing,'),
    ('2030-06-05 08:00Z', 'Wednesday 10:00, a day without any hours,')
) AS v(t, d);
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9003, 1002, 'TAP Full', '2030-06-03 09:30Z')$$,
                 'BK006', pg_temp.msg('BK006'),
                 'a 60-minute service at 11:30 does not fit where a 30-minute one does');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9003, 1002, 'TAP Shave', '2030-06-04 09:30Z', 30, 0)$$,
                'Tuesday 11:30 with a 30-minute buffer before (from 11:00) is accepted: buffers need not fit the hours');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-09 03:00Z')$$,
                'a barber without any working hours is bookable at 03:00 on a Sunday');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-09 23:45Z')$$,
                'and across midnight');

-- BK008: invalid arguments.
SELECT throws_ok(sql, 'BK008', pg_temp.msg('BK008'), d)
FROM (VALUES
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-10 10:00Z', -1, 0)$$,
     'a negative buffer_before is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-10 10:00Z', 0, -15)$$,
     'a negative buffer_after is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-10 10:00Z', 1441, 0)$$,
     'a buffer longer than a day is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, NULL, 'TAP Haircut', '2030-06-10 10:00Z')$$,
     'a NULL user is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, NULL, '2030-06-10 10:00Z')$$,
     'a NULL service is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', NULL)$$,
     'a NULL start is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-10 10:00Z', p_notes => repeat('x', 2001))$$,
     'notes of 2001 characters are BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', 'infinity')$$,
     'a start at infinity is BK008 (it would block an empty interval that nothing overlaps)')
) AS v(sql, d);
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9004, 1001, 'TAP Haircut', '2030-06-20 10:00Z', 1440, 0, repeat('é', 2000))$$,
                'notes of exactly 2000 characters and a buffer of 1440 minutes are accepted');
SELECT is((SELECT length(notes) FROM booking.appointments WHERE barber_id = 9004 AND start_time = '2030-06-20 10:00Z'),
          2000, 'and the notes are stored whole');

SELECT * FROM finish();
ROLLBACK;
