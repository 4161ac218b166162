-- The rule of contract.md section 1 against DIRECT writes to booking.appointments: first
-- the trigger appointments_check_overlap, then the exclusion constraint
-- appointments_no_overlap alone (trigger disabled inside this transaction); and the
-- version stamping of appointments_stamp_version.
BEGIN;
SELECT plan(34);
\ir fixtures.psql

-- A direct INSERT of a 30-minute appointment; returns its id.
CREATE FUNCTION pg_temp.put(p_barber bigint, p_start timestamptz, p_before int DEFAULT 0, p_after int DEFAULT 0,
                            p_status text DEFAULT 'scheduled')
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes,
                                      buffer_time_before, buffer_time_after, status)
    VALUES (p_barber, 1001, 'TAP Haircut', p_start, 30, p_before, p_after, p_status)
    RETURNING id
$$;

-- Barber 9001: 10:00-10:30 with 15/15 buffers, blocking 09:45-10:45.
SELECT pg_temp.put(9001, '2030-06-03 10:00Z', 15, 15) AS a \gset

-- 1. The trigger.
SELECT throws_ok($$SELECT pg_temp.put(9001, '2030-06-03 10:15Z')$$,
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a direct INSERT that overlaps is 23P01');
SELECT is((pg_temp.error_of($$SELECT pg_temp.put(9001, '2030-06-03 09:30Z')$$)).detail,
          format('Appointment %s blocks 2030-06-03T09:45:00Z to 2030-06-03T10:45:00Z.', :a),
          'its DETAIL names the conflicting appointment and the interval it blocks');
SELECT lives_ok($$SELECT pg_temp.put(9001, '2030-06-03 09:15Z')$$, 'a direct INSERT ending at 09:45 touches: accepted');
SELECT lives_ok($$SELECT pg_temp.put(9001, '2030-06-03 10:45Z')$$, 'a direct INSERT starting at 10:45 touches: accepted');
SELECT lives_ok($$SELECT pg_temp.put(9002, '2030-06-03 10:00Z')$$, 'another barber at the same time: accepted');
SELECT lives_ok($$SELECT pg_temp.put(9001, '2030-06-03 10:00Z', 0, 0, 'cancelled')$$,
                'a cancelled row may overlap an active one');
SELECT lives_ok($$SELECT pg_temp.put(9001, '2030-06-03 10:00Z', 0, 0, 'no_show')$$,
                'a no_show row may overlap an active one');

SELECT pg_temp.put(9001, '2030-06-03 12:00Z') AS b \gset
SELECT throws_ok(format($$UPDATE booking.appointments SET start_time = '2030-06-03 10:30Z' WHERE id = %s$$, :b),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a direct UPDATE moving a row into an overlap is 23P01');
SELECT throws_ok(format($$UPDATE booking.appointments SET buffer_time_before = 46 WHERE id = %s$$, :b),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a direct UPDATE growing a buffer into an overlap is 23P01');
SELECT pg_temp.put(9002, '2030-06-03 12:15Z') AS busy \gset
SELECT throws_ok(format($$UPDATE booking.appointments SET barber_id = 9002 WHERE id = %s$$, :b),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a direct UPDATE moving a row onto a busy barber is 23P01');
SELECT lives_ok(format($$UPDATE booking.appointments SET buffer_time_before = 45 WHERE id = %s$$, :b),
                'a buffer that just touches the row ending at 11:15 is accepted');

-- Cancelled and no_show rows do not block, and may not come back into an overlap.
SELECT pg_temp.put(9001, '2030-06-03 15:00Z') AS c \gset
UPDATE booking.appointments SET status = 'cancelled' WHERE id = :c;
SELECT pg_temp.put(9001, '2030-06-03 16:00Z') AS d \gset
UPDATE booking.appointments SET status = 'no_show' WHERE id = :d;
SELECT lives_ok($$SELECT pg_temp.put(9001, '2030-06-03 15:00Z')$$, 'a cancelled row does not block its slot');
SELECT lives_ok($$SELECT pg_temp.put(9001, '2030-06-03 16:10Z')$$, 'a no_show row does not block its slot');
SELECT throws_ok(format($$UPDATE booking.appointments SET status = 'scheduled' WHERE id = %s$$, :c),
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'a cancelled row brought back to scheduled over a taken slot is 23P01');

-- 2. The version stamp, for direct writes too.
SELECT results_eq(
    $$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, version)
      VALUES (9004, 1001, 'TAP Haircut', '2030-06-03 10:00Z', 30, 42) RETURNING version$$,
    $$VALUES (1)$$,
    'a direct INSERT gets version 1, even when it asks for 42');
SELECT results_eq(format($$UPDATE booking.appointments SET notes = 'direct' WHERE id = %s RETURNING version$$, :a),
                  $$VALUES (2)$$, 'a direct UPDATE that changes something adds exactly one');
SELECT results_eq(format($$UPDATE booking.appointments SET notes = 'again', version = 99 WHERE id = %s RETURNING version$$, :a),
                  $$VALUES (3)$$, 'a direct UPDATE cannot set the version: still exactly one more');
SELECT results_eq(format($$UPDATE booking.appointments SET version = 50 WHERE id = %s RETURNING version$$, :a),
                  $$VALUES (3)$$, 'an UPDATE of the version alone changes nothing');
SELECT results_eq(format($$UPDATE booking.appointments SET notes = notes, start_time = start_time WHERE id = %s RETURNING version$$, :a),
                  $$VALUES (3)$$, 'an UPDATE that writes the same values keeps the version');
SELECT results_eq(format($$UPDATE booking.appointments SET created_at = '2000-01-01Z' WHERE id = %s RETURNING created_at = now()$$, :a),
                  $$VALUES (true)$$, 'created_at cannot be rewritten');

-- 3. The exclusion constraint alone: with the trigger off, PostgreSQL itself refuses.
ALTER TABLE booking.appointments DISABLE TRIGGER appointments_check_overlap;
SELECT is((SELECT tgenabled::text FROM pg_trigger
            WHERE tgrelid = 'booking.appointments'::regclass AND tgname = 'appointments_check_overlap'),
          'D', 'the overlap trigger is disabled for this part');
SELECT throws_ok($$SELECT pg_temp.put(9001, '2030-06-03 10:15Z')$$, '23P01', NULL,
                 'without the trigger, an overlapping INSERT is still 23P01');
SELECT is((pg_temp.error_of($$SELECT pg_temp.put(9001, '2030-06-03 10:15Z')$$)).constraint_name,
          'appointments_no_overlap', 'raised by the constraint appointments_no_overlap');
SELECT lives_ok($$SELECT pg_temp.put(9005, '2030-06-03 10:00Z', 15, 15)$$,
                'barber 9005 gets 10:00-10:30 with 15/15 buffers (09:45-10:45)');
SELECT throws_ok($$SELECT pg_temp.put(9005, '2030-06-03 09:20Z')$$, '23P01', NULL,
                 'the constraint counts the existing row''s buffers (09:20-09:50 against 09:45)');
SELECT throws_ok($$SELECT pg_temp.put(9005, '2030-06-03 09:00Z', 0, 16)$$, '23P01', NULL,
                 'the constraint counts the new row''s buffers (09:00-09:46 against 09:45)');
SELECT lives_ok($$SELECT pg_temp.put(9005, '2030-06-03 09:00Z', 0, 15)$$,
                'touching intervals pass the constraint (09:00-09:45 against 09:45)');
SELECT lives_ok($$SELECT pg_temp.put(9005, '2030-06-03 10:45Z')$$,
                'touching intervals pass the constraint (10:45 against 10:45)');
SELECT throws_ok(format($$UPDATE booking.appointments SET start_time = '2030-06-03 10:30Z' WHERE id = %s$$, :b),
                 '23P01', NULL, 'without the trigger, an UPDATE into an overlap is still 23P01');
SELECT throws_ok(format($$UPDATE booking.appointments SET status = 'scheduled' WHERE id = %s$$, :c),
                 '23P01', NULL, 'and so is reviving a cancelled row over a taken slot');
SELECT lives_ok($$SELECT pg_temp.put(9005, '2030-06-03 10:00Z', 0, 0, 'cancelled')$$,
                'cancelled rows are outside the constraint');
SELECT lives_ok($$SELECT pg_temp.put(9005, '2030-06-03 10:00Z', 0, 0, 'no_show')$$,
                'no_show rows are outside the constraint');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 10:10Z')$$,
                 '23P01', NULL, 'book_appointment without the trigger: the constraint still answers 23P01');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T10:10:00Z"}')$$, :b),
                 '23P01', NULL, 'update_appointment without the trigger: the constraint still answers 23P01');

SELECT * FROM finish();
ROLLBACK;
