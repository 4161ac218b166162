-- booking.update_appointment(), booking.cancel_appointment() and booking.get_appointment():
-- rescheduling, moving, local date/time keys, no-op changes, status rules, who may do
-- what, optimistic versions, and freeing the slot.
BEGIN;
SELECT plan(82);
\ir fixtures.psql

-- a: barber 9001, client 1001, 10:00-10:30 with 15/15 buffers (blocks 09:45-10:45)
-- b: barber 9001, client 1002, 12:00-12:30
-- c: barber 9002, client 1002, 10:00-10:30
-- p: barber 9003 (Paris), client 1001, Monday 10:00 local (08:00Z)
SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z', 15, 15) \gset
SELECT id AS b FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 12:00Z') \gset
SELECT id AS c FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT id AS p FROM booking.book_appointment(9003, 1001, 'TAP Haircut', '2030-06-03 08:00Z') \gset

-- Rescheduling.
SELECT results_eq(
    format($$SELECT start_time, version, status FROM booking.update_appointment(
               p_appointment_id => %s, p_user_id => 1001,
               p_changes => '{"start_time": "2030-06-03T11:00:00Z"}', p_expected_version => 1)$$, :a),
    $$VALUES ('2030-06-03 11:00Z'::timestamptz, 2, 'scheduled'::text)$$,
    'the client reschedules to 11:00: version 2');
SELECT is((SELECT (start_time, version)::text FROM booking.appointments WHERE id = :a),
          ('2030-06-03 11:00Z'::timestamptz, 2)::text, 'the change is stored');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                'the old slot at 10:00 is free again');
SELECT lives_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T11:05:00Z"}')$$, :a),
                'moving by five minutes does not conflict with the appointment itself');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T12:15:00Z"}')$$, :a),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'rescheduling onto b is 23P01');
SELECT is((pg_temp.error_of(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T12:15:00Z"}')$$, :a))).detail,
          format('Appointment %s blocks 2030-06-03T12:00:00Z to 2030-06-03T12:30:00Z.', :b),
          'the 23P01 DETAIL names b and the interval it blocks');
SELECT is((SELECT (start_time, version)::text FROM booking.appointments WHERE id = :a),
          ('2030-06-03 11:05Z'::timestamptz, 3)::text, 'after the five-minute move and the refused one: 11:05, version 3');
SELECT results_eq(
    format($$SELECT start_time, version FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T15:00:00+02:00"}')$$, :a),
    $$VALUES ('2030-06-03 13:00Z'::timestamptz, 4)$$,
    'start_time is an RFC 3339 instant with any offset');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2001-06-03T13:00:00Z"}')$$, :a),
                 'BK005', pg_temp.msg('BK005'), 'rescheduling into the past is BK005');

-- Optimistic versions (a is at version 4).
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"notes": "late"}', 3)$$, :a),
                 'BK001', 'Booking has been modified by another user', 'update with a stale p_expected_version is BK001');
SELECT throws_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 1001, 1)$$, :a),
                 'BK001', 'Booking has been modified by another user', 'cancel with a stale p_expected_version is BK001');

-- Buffers and notes.
SELECT results_eq(
    format($$SELECT buffer_time_before, version FROM booking.update_appointment(%s, 1001, '{"buffer_time_before": 30}', 4)$$, :a),
    $$VALUES (30, 5)$$,
    'a buffer of 30 before 13:00 touches b (ends 12:30) and is accepted');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"buffer_time_before": 31}')$$, :a),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a buffer of 31 reaches into b: 23P01');
SELECT results_eq(
    format($$SELECT notes, buffer_time_after, version FROM booking.update_appointment(%s, 1001,
               '{"notes": "Bring a photo", "buffer_time_after": 0}')$$, :a),
    $$VALUES ('Bring a photo'::text, 0, 6)$$,
    'several fields in one change: the version grows by exactly one');
SELECT results_eq(
    format($$SELECT notes, version FROM booking.update_appointment(%s, 1001, '{"notes": null}')$$, :a),
    $$VALUES (NULL::text, 7)$$,
    'notes can be cleared with null');

-- A change that changes nothing keeps the version (a is at version 7).
SELECT results_eq(format($$SELECT id, version FROM booking.update_appointment(%s, 1001, %L)$$, :a, ch),
                  format('VALUES (%s::bigint, 7)', :a),
                  format('no-op %s returns the row with its version unchanged', ch))
FROM unnest(ARRAY['{}',
                  '{"start_time": "2030-06-03T15:00:00+02:00"}',
                  '{"barber_id": 9001}']) AS ch;
SELECT results_eq(format($$SELECT version FROM booking.update_appointment(%s, 1001, '{}', 7)$$, :a),
                  $$VALUES (7)$$, 'a no-op with the right p_expected_version returns the row');

-- BK009: keys that are not changes.
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, %L)$$, :a, ch),
                 'BK009', pg_temp.msg('BK009'), format('%s is BK009', ch))
FROM unnest(ARRAY['{"service_name": "TAP Full"}', '{"version": 1}', '{"notes": "x", "Notes": "y"}']) AS ch;

-- BK008: bad arguments and bad values in p_changes.
SELECT throws_ok(sql, 'BK008', pg_temp.msg('BK008'), d)
FROM (VALUES
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, NULL)$$, :a), 'NULL p_changes'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '[]')$$, :a), 'p_changes that is an array'),
    (format($$SELECT * FROM booking.update_appointment(%s, NULL, '{}')$$, :a), 'a NULL p_user_id'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"buffer_time_before": -1}')$$, :a), 'a negative buffer'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"buffer_time_after": "15"}')$$, :a), 'a buffer given as a string'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, %L)$$, :a, jsonb_build_object('notes', repeat('x', 2001))),
     'notes of 2001 characters'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"status": "done"}')$$, :a), 'an unknown status'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": "9002"}')$$, :a), 'a barber_id given as a string'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T13:00:00"}')$$, :a),
     'a start_time without a UTC offset'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-02-30T13:00:00Z"}')$$, :a),
     'a start_time on a day that does not exist'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T13:00:00Z", "booking_time": "13:00"}')$$, :a),
     'start_time together with booking_time')
) AS v(sql, d);

-- Moving to another barber (a: barber 9001, 13:00-13:30, buffers 30/0; c: barber 9002, 10:00-10:30).
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 9002, "start_time": "2030-06-03T10:15:00Z"}')$$, :a),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'moving onto c''s time at barber 9002 is 23P01');
SELECT is((pg_temp.error_of(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 9002, "start_time": "2030-06-03T10:15:00Z"}')$$, :a))).detail,
          format('Appointment %s blocks 2030-06-03T10:00:00Z to 2030-06-03T10:30:00Z.', :c),
          'its DETAIL names c');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 8999999}')$$, :a),
                 'BK003', pg_temp.msg('BK003'), 'moving to an unknown barber is BK003');
SELECT results_eq(
    format($$SELECT barber_id, start_time, version FROM booking.update_appointment(%s, 1001, '{"barber_id": 9002}', 7)$$, :a),
    $$VALUES (9002::bigint, '2030-06-03 13:00Z'::timestamptz, 8)$$,
    'moving to barber 9002 at the same time: version 8');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 13:00Z')$$,
                'barber 9001 is free at 13:00 again');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-03 13:00Z')$$,
                 '23P01', 'This time slot conflicts with an existing appointment', 'and barber 9002 is not');

-- booking_date / booking_time are local to the barber (p: Paris, Monday 10:00 local = 08:00Z).
SELECT results_eq(
    format($$SELECT start_time, version FROM booking.update_appointment(%s, 1001, '{"booking_time": "14:00"}')$$, :p),
    $$VALUES ('2030-06-03 12:00Z'::timestamptz, 2)$$,
    'booking_time 14:00 alone keeps the local date: 12:00Z in Paris summer time');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_date": "2030-06-04"}')$$, :p),
                 'BK006', pg_temp.msg('BK006'),
                 'booking_date alone keeps the local time: Tuesday 14:00 is after closing (BK006)');
SELECT results_eq(
    format($$SELECT start_time, version FROM booking.update_appointment(%s, 1001, '{"booking_date": "2030-06-04", "booking_time": "11:00"}')$$, :p),
    $$VALUES ('2030-06-04 09:00Z'::timestamptz, 3)$$,
    'booking_date and booking_time together: Tuesday 11:00 Paris is 09:00Z');
SELECT results_eq(
    format($$SELECT start_time, version FROM booking.update_appointment(%s, 1001, '{"booking_time": "11:00:00"}')$$, :p),
    $$VALUES ('2030-06-04 09:00Z'::timestamptz, 3)$$,
    'the same local time again is a no-op');
SELECT results_eq(
    format($$SELECT barber_id, start_time FROM booking.update_appointment(%s, 1001, '{"barber_id": 9004, "booking_time": "10:00"}')$$, :p),
    $$VALUES (9004::bigint, '2030-06-04 14:00Z'::timestamptz)$$,
    'moving to the New York barber, booking_time is New York time: 10:00 EDT is 14:00Z');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_date": "2020-06-04"}')$$, :p),
                 'BK005', pg_temp.msg('BK005'), 'a booking_date in the past is BK005');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, %L)$$, :p, ch),
                 'BK008', pg_temp.msg('BK008'), format('%s is BK008', ch))
FROM unnest(ARRAY['{"booking_time": "25:00"}', '{"booking_time": "9:00"}',
                  '{"booking_date": "2030-02-30"}']) AS ch;

-- Status: the client may only cancel; the appointment's barber and admins do the rest.
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1002, %L)$$, :b, jsonb_build_object('status', s)),
                 'BK012', pg_temp.msg('BK012'), format('the client may not mark it %s: BK012', s))
FROM unnest(ARRAY['confirmed', 'completed', 'no_show']) AS s;
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 2001, '{"status": "confirmed"}')$$, :c),
                 'BK011', pg_temp.msg('BK011'), 'the staff of another barber does not see it: BK011');
SELECT results_eq(
    format($$SELECT status, version FROM booking.update_appointment(%s, 2001, '{"status": "confirmed"}', 1)$$, :b),
    $$VALUES ('confirmed'::text, 2)$$,
    'the appointment''s barber confirms it');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 2002, '{"status": "scheduled"}')$$, :b),
                 'BK010', pg_temp.msg('BK010'), 'confirmed -> scheduled is BK010');
SELECT results_eq(
    format($$SELECT status, version FROM booking.update_appointment(%s, 1002, '{"notes": "Running late"}')$$, :b),
    $$VALUES ('confirmed'::text, 3)$$,
    'the client may still change the notes of a confirmed appointment');
SELECT results_eq(
    format($$SELECT status, version FROM booking.update_appointment(%s, 2002, '{"status": "completed"}')$$, :b),
    $$VALUES ('completed'::text, 4)$$,
    'an admin marks it completed');
SELECT throws_ok(sql, 'BK010', pg_temp.msg('BK010'), d)
FROM (VALUES
    (format($$SELECT * FROM booking.cancel_appointment(%s, 1002)$$, :b), 'completed -> cancelled is BK010'),
    (format($$SELECT * FROM booking.update_appointment(%s, 2002, '{"status": "no_show"}')$$, :b), 'completed -> no_show is BK010'),
    (format($$SELECT * FROM booking.update_appointment(%s, 2002, '{"status": "scheduled"}')$$, :b), 'completed -> scheduled is BK010'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"notes": "Great"}')$$, :b), 'a completed appointment''s notes are final')
) AS v(sql, d);
SELECT results_eq(format($$SELECT status, version FROM booking.update_appointment(%s, 2002, '{"status": "completed"}')$$, :b),
                  $$VALUES ('completed'::text, 4)$$, 'setting the status it already has is a no-op');

-- Cancelling (c: barber 9002, client 1002, 10:00, version 1).
SELECT results_eq(
    format($$SELECT status, version FROM booking.cancel_appointment(p_appointment_id => %s, p_user_id => 1002, p_expected_version => 1)$$, :c),
    $$VALUES ('cancelled'::text, 2)$$,
    'the client cancels: status cancelled, version 2');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                'the cancelled slot is free again');
SELECT results_eq(format($$SELECT status, version, start_time FROM booking.cancel_appointment(%s, 1002)$$, :c),
                  $$VALUES ('cancelled'::text, 2, '2030-06-03 10:00Z'::timestamptz)$$,
                  'cancelling twice returns the row unchanged');
SELECT results_eq(format($$SELECT status, version FROM booking.cancel_appointment(%s, 1002, 2)$$, :c),
                  $$VALUES ('cancelled'::text, 2)$$,
                  'cancelling again with the current version is harmless too');
SELECT throws_ok(sql, 'BK010', pg_temp.msg('BK010'), d)
FROM (VALUES
    (format($$SELECT * FROM booking.update_appointment(%s, 2002, '{"status": "confirmed"}')$$, :c), 'cancelled -> confirmed is BK010'),
    (format($$SELECT * FROM booking.update_appointment(%s, 2002, '{"status": "scheduled"}')$$, :c), 'cancelled -> scheduled is BK010'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"start_time": "2030-06-05T10:00:00Z"}')$$, :c),
     'a cancelled appointment cannot be rescheduled')
) AS v(sql, d);

-- No-show (n: barber 9001, client 1001).
SELECT id AS n FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-05 10:00Z') \gset
SELECT results_eq(format($$SELECT status, version FROM booking.update_appointment(%s, 2001, '{"status": "no_show"}')$$, :n),
                  $$VALUES ('no_show'::text, 2)$$, 'the barber marks a no-show');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-05 10:00Z')$$,
                'a no-show frees the slot');
SELECT throws_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 1001)$$, :n),
                 'BK010', pg_temp.msg('BK010'), 'no_show -> cancelled is BK010');

-- Staff may cancel; strangers see nothing (BK011).
SELECT id AS s FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-06 10:00Z') \gset
SELECT throws_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 1002)$$, :s),
                 'BK011', pg_temp.msg('BK011'), 'another client cannot cancel it: BK011');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"notes": "mine now"}')$$, :s),
                 'BK011', pg_temp.msg('BK011'), 'nor change it: BK011');
SELECT throws_ok($$SELECT * FROM booking.update_appointment(-1, 2002, '{}')$$,
                 'BK011', pg_temp.msg('BK011'), 'an appointment that does not exist is BK011, even for an admin');
SELECT throws_ok($$SELECT * FROM booking.cancel_appointment(-1, 1001)$$,
                 'BK011', pg_temp.msg('BK011'), 'cancelling one that does not exist is BK011');
SELECT results_eq(format($$SELECT status FROM booking.cancel_appointment(%s, 2001)$$, :s),
                  $$VALUES ('cancelled'::text)$$, 'the appointment''s barber may cancel it');

-- get_appointment: visible to its client, its barber and admins; to nobody else.
SELECT results_eq(format($$SELECT id, user_id FROM booking.get_appointment(%s, %s)$$, :s, u),
                  format('VALUES (%s::bigint, 1001::bigint)', :s),
                  format('user %s sees it', u))
FROM unnest(ARRAY[1001, 2001, 2002]) AS u;
SELECT is_empty(format($$SELECT * FROM booking.get_appointment(%s, 1002)$$, :s),
                'another client sees nothing');
SELECT is_empty(format($$SELECT * FROM booking.get_appointment(%s, 2001)$$, :c),
                'the staff of another barber sees nothing');
SELECT is_empty($$SELECT * FROM booking.get_appointment(-1, 2002)$$, 'a missing appointment is no row');

SELECT * FROM finish();
ROLLBACK;
