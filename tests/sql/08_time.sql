-- Time: booking.local_start() and the booking_date/booking_time keys read local times in
-- the barber's zone; a time skipped by a spring-forward change is BK007; a time repeated by
-- a fall-back change is the EARLIER instant; working hours use the barber's local weekday;
-- nothing depends on the session's TimeZone.
-- 2030 changes: Europe/Paris 31 March 02:00 -> 03:00 and 27 October 03:00 -> 02:00;
-- America/New_York 10 March 02:00 -> 03:00 and 3 November 02:00 -> 01:00.
BEGIN;
SELECT plan(38);
\ir fixtures.psql

-- Plain local times.
SELECT is(booking.local_start(p_barber_id => b, p_date => d::date, p_time => t::time), want::timestamptz,
          format('%s %s at barber %s is %s', d, t, b, want))
FROM (VALUES
    (9001, '2030-06-03', '10:00', '2030-06-03 10:00Z'),
    (9005, '2030-06-03', '10:00', '2030-06-03 08:00Z'),
    (9005, '2030-01-07', '10:00', '2030-01-07 09:00Z'),
    (9004, '2030-06-03', '10:00', '2030-06-03 14:00Z'),
    (9004, '2030-01-07', '10:00', '2030-01-07 15:00Z')
) AS v(b, d, t, want);

-- Spring forward: the skipped hour does not exist.
SELECT throws_ok(format($$SELECT booking.local_start(%s, %L, %L)$$, b, d, t),
                 'BK007', pg_temp.msg('BK007'),
                 format('%s %s does not exist at barber %s: BK007', d, t, b))
FROM (VALUES
    (9005, '2030-03-31', '02:00'), (9005, '2030-03-31', '02:30'), (9005, '2030-03-31', '02:59'),
    (9004, '2030-03-10', '02:00'), (9004, '2030-03-10', '02:30')
) AS v(b, d, t);
SELECT is(booking.local_start(b, d::date, t::time), want::timestamptz, format('%s %s at barber %s is %s', d, t, b, want))
FROM (VALUES
    (9005, '2030-03-31', '01:59', '2030-03-31 00:59Z'),
    (9005, '2030-03-31', '03:00', '2030-03-31 01:00Z'),
    (9004, '2030-03-10', '01:59', '2030-03-10 06:59Z'),
    (9004, '2030-03-10', '03:00', '2030-03-10 07:00Z')
) AS v(b, d, t, want);

-- Fall back: the repeated hour is read as its first occurrence (summer time).
SELECT is(booking.local_start(b, d::date, t::time), want::timestamptz, format('%s %s at barber %s is %s (%s)', d, t, b, want, why))
FROM (VALUES
    (9005, '2030-10-27', '02:00', '2030-10-27 00:00Z', 'ambiguous: the earlier instant'),
    (9005, '2030-10-27', '02:30', '2030-10-27 00:30Z', 'ambiguous: the earlier instant'),
    (9005, '2030-10-27', '03:00', '2030-10-27 02:00Z', 'after the change'),
    (9004, '2030-11-03', '01:00', '2030-11-03 05:00Z', 'ambiguous: the earlier instant'),
    (9004, '2030-11-03', '01:30', '2030-11-03 05:30Z', 'ambiguous: the earlier instant'),
    (9004, '2030-11-03', '02:00', '2030-11-03 07:00Z', 'after the change')
) AS v(b, d, t, want, why);

-- local_start's errors.
SELECT throws_ok(sql, code, NULL, d)
FROM (VALUES
    ($$SELECT booking.local_start(8999999, '2030-06-03', '10:00')$$, 'BK003', 'an unknown barber is BK003'),
    ($$SELECT booking.local_start(NULL, '2030-06-03', '10:00')$$, 'BK008',
     'any barber (NULL) while barbers work in several time zones is BK008'),
    ($$SELECT booking.local_start(9001, NULL, '10:00')$$, 'BK008', 'a NULL date is BK008'),
    ($$SELECT booking.local_start(9001, '2030-06-03', NULL)$$, 'BK008', 'a NULL time is BK008')
) AS v(sql, code, d);

-- The session's TimeZone changes nothing.
SET LOCAL TimeZone = 'Asia/Tokyo';
SELECT is(booking.local_start(9005, '2030-10-27', '02:30'), '2030-10-27 00:30Z'::timestamptz,
          'with TimeZone Asia/Tokyo, local_start still reads Paris time');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9003, 1001, 'TAP Haircut', '2030-06-03 07:00Z')$$,
                'with TimeZone Asia/Tokyo, Monday 09:00 Paris is still within the Paris barber''s hours');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9003, 1001, 'TAP Haircut', '2030-06-03 06:30Z')$$,
                 'BK006', NULL, 'and 08:30 Paris is still outside them');
SELECT is((pg_temp.error_of($$SELECT * FROM booking.book_appointment(9003, 1002, 'TAP Haircut', '2030-06-03 07:15Z')$$)).detail,
          format('Appointment %s blocks 2030-06-03T07:00:00Z to 2030-06-03T07:30:00Z.',
                 (SELECT id FROM booking.appointments WHERE barber_id = 9003)),
          'a conflict''s DETAIL is in UTC whatever the session''s TimeZone');
RESET TimeZone;

-- Working hours are in the barber's local weekday and time (Auckland is UTC+12 in June).
INSERT INTO booking.barbers (id, name, timezone) VALUES (9101, 'TAP Auckland', 'Pacific/Auckland');
INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES (9101, 1, '08:00', '12:00'), (9101, 7, '08:00', '12:00');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9101, 1001, 'TAP Haircut', '2030-06-02 21:00Z')$$,
                'Sunday 21:00 UTC is Monday 09:00 in Auckland: within Monday''s hours');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9101, 1001, 'TAP Haircut', '2030-06-03 21:00Z')$$,
                 'BK006', NULL, 'Monday 21:00 UTC is Tuesday 09:00 in Auckland: no hours on Tuesday');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9101, 1001, 'TAP Haircut', '2030-06-08 21:00Z')$$,
                'Saturday 21:00 UTC is Sunday 09:00 in Auckland: ISO weekday 7');

-- A booking across the spring-forward change lasts its real minutes.
SELECT results_eq(
    $$SELECT end_time - start_time, end_time AT TIME ZONE 'Europe/Paris'
        FROM booking.book_appointment(9005, 1001, 'TAP Haircut', booking.local_start(9005, '2030-03-31', '01:45'))$$,
    $$VALUES (interval '30 minutes', '2030-03-31 03:15'::timestamp)$$,
    '01:45 Paris on the spring-forward night lasts 30 real minutes and ends at 03:15 local');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9005, 1002, 'TAP Haircut', booking.local_start(9005, '2030-03-31', '03:00'))$$,
                 '23P01', NULL, 'so 03:00 local that night conflicts with it');

-- booking_date / booking_time through update_appointment follow the same rules.
SELECT id AS a FROM booking.book_appointment(9005, 1001, 'TAP Haircut', '2030-03-29 09:00Z') \gset
SELECT results_eq(format($$SELECT start_time FROM booking.update_appointment(%s, 1001, '{"booking_date": "2030-04-01"}')$$, :a),
                  $$VALUES ('2030-04-01 08:00Z'::timestamptz)$$,
                  'a new booking_date across the change keeps the local time 10:00 (now UTC+2)');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_date": "2030-03-31", "booking_time": "02:30"}')$$, :a),
                 'BK007', pg_temp.msg('BK007'),
                 'booking_date/booking_time in the skipped hour is BK007');
SELECT results_eq(format($$SELECT start_time FROM booking.update_appointment(%s, 1001, '{"booking_date": "2030-10-27", "booking_time": "02:30"}')$$, :a),
                  $$VALUES ('2030-10-27 00:30Z'::timestamptz)$$,
                  'booking_date/booking_time in the repeated hour is the earlier instant');

-- The past is measured against now().
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', now() + interval '1 minute')$$,
                'a start one minute from now is accepted');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', now() - interval '1 second')$$,
                 'BK005', NULL, 'a start one second ago is BK005');

SELECT * FROM finish();
ROLLBACK;
