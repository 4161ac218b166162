-- Actual durations and default buffers (issue 18): staff mark an appointment started and
-- finished (booking.start_appointment, booking.finish_appointment), in that order, by the
-- database's clock, versioned like every change; an appointment in progress keeps blocking
-- its slot; an admin's default buffers of a barber and service apply to the bookings that
-- give none (and to the slot search), never to the appointments already booked; the
-- history the recommendations read (booking.service_durations) is staff's.
BEGIN;
SELECT plan(64);
\ir fixtures.psql

-- 1. The schema: the status, the columns, the order of the times.
SELECT has_column('booking', 'appointments', 'started_at', 'appointments have started_at');
SELECT has_column('booking', 'appointments', 'finished_at', 'appointments have finished_at');
SELECT ok(pg_get_constraintdef((SELECT oid FROM pg_constraint WHERE conname = 'appointments_no_overlap'))
          LIKE '%status <> ALL (ARRAY[''cancelled''::text, ''no_show''::text, ''expired''::text])%',
          'the exclusion constraint''s predicate names the inactive statuses only: in_progress is active');

SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT id AS b FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset

-- 2. Who may start: the barber of that appointment and admins; the client who booked it
--    is refused (BK012), anyone else does not see it (BK011).
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 1001)', :a), 'BK012', pg_temp.msg('BK012'),
                 'the client who booked it may not start it (BK012)');
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 1002)', :a), 'BK011', pg_temp.msg('BK011'),
                 'another client does not see it (BK011)');
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 2001)', :b), 'BK011', pg_temp.msg('BK011'),
                 'the barber of another barber does not see it (BK011)');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 2001)', :a), 'BK010', pg_temp.msg('BK010'),
                 'finishing before starting is refused (BK010): the order is enforced');
SELECT is((SELECT hint FROM pg_temp.error_of(format('SELECT * FROM booking.finish_appointment(%s, 2001)', :a))),
          'Start it first (booking.start_appointment).', 'and the refusal says what to do');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 1001)', :a), 'BK012', pg_temp.msg('BK012'),
                 'the client who booked it may not finish it, started or not (BK012)');
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 2001, 7)', :a), 'BK001', pg_temp.msg('BK001'),
                 'a stale expected version is refused (BK001)');
SELECT results_eq(format('SELECT status, version, started_at = now(), finished_at IS NULL FROM booking.start_appointment(%s, 2001, 1)', :a),
                  $$VALUES ('in_progress'::text, 2, true, true)$$,
                  'its barber starts it: in_progress, version 2, started_at is the database''s clock');
SELECT results_eq(format('SELECT status, version FROM booking.start_appointment(%s, 2001)', :a),
                  $$VALUES ('in_progress'::text, 2)$$, 'starting it again changes nothing (a retried click)');
SELECT results_eq(format('SELECT status, version FROM booking.start_appointment(%s, 2002)', :b),
                  $$VALUES ('in_progress'::text, 2)$$, 'an admin may start any appointment of its shop');

-- 3. In progress it keeps its slot, and stays where it is.
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1002, 'TAP Shave', '2030-06-03 10:15Z')$$,
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'an appointment in progress blocks its slot (23P01)');
SELECT throws_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                   VALUES (9001, 1002, 'TAP Shave', '2030-06-03 10:20Z', 15)$$,
                 '23P01', NULL, 'a direct INSERT over it is refused too');
SELECT is((SELECT count(*)::int FROM booking.free_slots(9001, '2030-06-03', 'TAP Haircut') s
            WHERE s.start_time < '2030-06-03 10:30Z' AND s.start_time > '2030-06-03 09:30Z'), 0,
          'availability does not offer its time');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 2001, '{"booking_time": "12:00"}')$$, :a),
                 'BK010', pg_temp.msg('BK010'), 'an appointment in progress can no longer be moved (BK010)');
SELECT throws_ok(format('SELECT * FROM booking.cancel_appointment(%s, 1001)', :a), 'BK010', pg_temp.msg('BK010'),
                 'nor cancelled (no such transition)');
SELECT results_eq(format($$SELECT notes, version FROM booking.update_appointment(%s, 2001, '{"notes": "beard too"}')$$, :a),
                  $$VALUES ('beard too'::text, 3)$$, 'its notes may still change');
SELECT is((SELECT string_agg(kind || ' ' || version, ',') FROM booking.appointment_change_events(
              (SELECT jsonb_populate_record(a1, '{"status": "scheduled", "version": 1}') FROM booking.appointments a1 WHERE id = :a),
              (SELECT a1 FROM booking.appointments a1 WHERE id = :a))),
          'changed 3', 'the change feed announces a start as a change of its version');

-- 4. Finishing: its barber or an admin; the client is refused; versioned; once.
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 1001)', :a), 'BK012', pg_temp.msg('BK012'),
                 'the client who booked it may not finish it (BK012)');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 1002)', :a), 'BK011', pg_temp.msg('BK011'),
                 'another client does not see it (BK011)');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 2001, 2)', :a), 'BK001', pg_temp.msg('BK001'),
                 'a stale expected version is refused (BK001)');
SELECT results_eq(format('SELECT status, version, finished_at = now(), finished_at >= started_at FROM booking.finish_appointment(%s, 2001, 3)', :a),
                  $$VALUES ('completed'::text, 4, true, true)$$,
                  'its barber finishes it: completed, version 4, finished_at the database''s clock');
SELECT results_eq(format('SELECT status, version FROM booking.finish_appointment(%s, 2001)', :a),
                  $$VALUES ('completed'::text, 4)$$, 'finishing it again changes nothing');
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 2001)', :a), 'BK010', pg_temp.msg('BK010'),
                 'a completed appointment cannot be started again (BK010)');
SELECT results_eq(format('SELECT status, version FROM booking.finish_appointment(%s, 2002)', :b),
                  $$VALUES ('completed'::text, 3)$$, 'an admin may finish one');

-- 5. The order for every other status: only scheduled and confirmed start; only a started one finishes.
SELECT id AS h FROM booking.hold_slot(9001, 1001, 'TAP Haircut', '2030-06-03 12:00Z') \gset
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 2001)', :h), 'BK008', pg_temp.msg('BK008'),
                 'a hold cannot be started: it is confirmed or released first (BK008, as for any change of a hold)');
SELECT id AS c FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 13:00Z') \gset
SELECT lives_ok(format('SELECT booking.cancel_appointment(%s, 1001)', :c), 'an appointment is cancelled');
SELECT throws_ok(format('SELECT * FROM booking.start_appointment(%s, 2001)', :c), 'BK010', pg_temp.msg('BK010'),
                 'a cancelled one cannot be started (BK010)');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 2001)', :c), 'BK010', pg_temp.msg('BK010'),
                 'nor finished (BK010)');
SELECT id AS d FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 14:00Z') \gset
SELECT results_eq(format($$SELECT status FROM booking.update_appointment(%s, 2001, '{"status": "confirmed"}')$$, :d),
                  $$VALUES ('confirmed'::text)$$, 'a confirmed appointment');
SELECT results_eq(format($$SELECT status, started_at = now() FROM booking.update_appointment(%s, 2001, '{"status": "in_progress"}')$$, :d),
                  $$VALUES ('in_progress'::text, true)$$,
                  'a status change to in_progress through update_appointment stamps started_at too');
SELECT results_eq(format($$SELECT status, finished_at = now() FROM booking.update_appointment(%s, 2001, '{"status": "completed"}')$$, :d),
                  $$VALUES ('completed'::text, true)$$, 'and completing it stamps finished_at');
SELECT id AS e FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 15:00Z') \gset
SELECT lives_ok(format($$SELECT booking.update_appointment(%s, 2001, '{"status": "completed"}')$$, :e),
                'a scheduled appointment may still be completed without times, as before');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 2001)', :e), 'BK010', pg_temp.msg('BK010'),
                 'but finish_appointment refuses it: it was never started (BK010)');
SELECT throws_ok(format('SELECT * FROM booking.finish_appointment(%s, 2001)', 987654321), 'BK011', pg_temp.msg('BK011'),
                 'an unknown appointment is BK011');
SELECT throws_ok(format($$UPDATE booking.appointments SET finished_at = started_at - interval '1 minute' WHERE id = %s$$, :a),
                 '23514', NULL, 'the table refuses a finish before the start (CHECK)');

-- 6. Default buffers: an admin sets them; the barber, a client cannot.
SELECT throws_ok($$SELECT * FROM booking.set_service_buffers(9001, 'TAP Haircut', 5, 10, NULL, 2001)$$,
                 'BK012', pg_temp.msg('BK012'), 'a barber may not set default buffers (BK012)');
SELECT throws_ok($$SELECT * FROM booking.set_service_buffers(9001, 'TAP Haircut', 5, 10, NULL, 1001)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor a client (BK012)');
SELECT throws_ok($$SELECT * FROM booking.set_service_buffers(9001, 'TAP Nope', 5, 10, NULL, 2002)$$,
                 'BK004', pg_temp.msg('BK004'), 'an unknown service is BK004');
SELECT throws_ok($$SELECT * FROM booking.set_service_buffers(9001, 'TAP Haircut', 5, NULL, NULL, 2002)$$,
                 'BK008', pg_temp.msg('BK008'), 'both buffers or neither (BK008)');
SELECT throws_ok($$SELECT * FROM booking.set_service_buffers(9001, 'TAP Haircut', 5, 10, '[1]', 2002)$$,
                 'BK008', pg_temp.msg('BK008'), 'the basis is a JSON object (BK008)');
SELECT id AS before_default FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-04 10:00Z') \gset
SELECT results_eq($$SELECT buffer_time_before, buffer_time_after, basis->>'n', set_by
                      FROM booking.set_service_buffers(9001, 'TAP Haircut', 5, 10, '{"n": 12}', 2002)$$,
                  $$VALUES (5, 10, '12'::text, 2002::bigint)$$, 'an admin sets 5/10 minutes for barber 9001''s haircuts');
SELECT results_eq(format('SELECT buffer_time_before, buffer_time_after, version FROM booking.appointments WHERE id = %s', :before_default),
                  $$VALUES (0, 0, 1)$$, 'the appointment booked before is untouched');
SELECT results_eq($$SELECT buffer_time_before, buffer_time_after
                      FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-04 12:00Z', NULL, NULL)$$,
                  $$VALUES (5, 10)$$, 'a new booking whose buffers are NULL gets the default');
SELECT results_eq($$SELECT buffer_time_before, buffer_time_after
                      FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-04 14:00Z', 0, 3)$$,
                  $$VALUES (0, 3)$$, 'buffers given are kept');
SELECT results_eq($$SELECT buffer_time_before, buffer_time_after
                      FROM booking.book_appointment(9001, 1001, 'TAP Shave', '2030-06-04 16:00Z', NULL, NULL)$$,
                  $$VALUES (0, 0)$$, 'another service of that barber has no default');
SELECT results_eq($$SELECT buffer_time_before, buffer_time_after
                      FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-04 12:00Z', NULL, NULL)$$,
                  $$VALUES (0, 0)$$, 'nor does another barber');
-- 12:00-12:30 with 5/10 blocks 11:55-12:40: a haircut at 12:45 (blocking 12:40-13:25) fits,
-- one at 11:30 (blocking 11:25-12:10) does not.
-- Barber 9001 that day: 10:00-10:30 (booked before the default), 11:55-12:40 (12:00 with
-- 5/10), 14:00-14:33, 16:00-16:15. A haircut at 10:30 with the default blocks 10:25-11:10
-- (taken), without buffers 10:30-11:00 (free); one at 12:45 blocks 12:40-13:25 (free).
SELECT ok((SELECT bool_and(s.start_time <> '2030-06-04 10:30Z') AND bool_or(s.start_time = '2030-06-04 12:45Z')
             FROM booking.free_slots(9001, '2030-06-04', 'TAP Haircut', NULL, NULL) AS s),
          'the slot search with NULL buffers uses the default too (10:30 is not offered, 12:45 is)');
SELECT ok((SELECT bool_or(s.start_time = '2030-06-04 10:30Z')
             FROM booking.free_slots(9001, '2030-06-04', 'TAP Haircut', 0, 0) AS s),
          'with buffers given (0, 0) 10:30 is offered');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-04 12:35Z', 0, 0)$$,
                 '23P01', NULL, 'the default''s buffer after blocks 12:30-12:40');
SELECT is((SELECT count(*)::int FROM booking.set_service_buffers(9001, 'TAP Haircut', NULL, NULL, NULL, 2002)), 0,
          'both NULL remove the default');
SELECT results_eq($$SELECT buffer_time_before, buffer_time_after
                      FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-04 17:00Z', NULL, NULL)$$,
                  $$VALUES (0, 0)$$, 'then bookings get 0 again');
-- "Any barber" in a shop of two: X (one appointment, 10:30, and a default of 10 minutes
-- after) and Y (two). At 10:00 X is the fairer, but with its default a haircut blocks
-- 10:00-10:40, over its 10:30: the choice is Y. (Without per-barber defaults it was X.)
SELECT id AS s2 FROM booking.create_shop('TAP Learn Shop', 'UTC', 3201) \gset
SELECT id AS x FROM booking.create_barber(:s2, 'TAP X', 'UTC', 3201) \gset
SELECT id AS y FROM booking.create_barber(:s2, 'TAP Y', 'UTC', 3201) \gset
SELECT lives_ok(format($$SELECT booking.create_service(%s, 'TAP Cut', 30, 0, 3201)$$, :s2), 'a service of the new shop');
SELECT lives_ok(format($$SELECT booking.set_service_buffers(%s, 'TAP Cut', 0, 10, NULL, 3201)$$, :x),
                'its admin sets X''s default');
SELECT count(*) AS booked FROM (
    SELECT booking.book_appointment(:x, 1001, 'TAP Cut', '2030-06-04 10:30Z', 0, 0)
    UNION ALL SELECT booking.book_appointment(:y, 1001, 'TAP Cut', '2030-06-04 08:00Z', 0, 0)
    UNION ALL SELECT booking.book_appointment(:y, 1001, 'TAP Cut', '2030-06-04 08:30Z', 0, 0)) AS t \gset
SELECT is(:booked::int, 3, 'X has one appointment at 10:30, Y two');
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 1002, 'TAP Cut', '2030-06-04 10:00Z', NULL, NULL, p_shop_id => :s2)),
          :y::bigint, '"any barber" checks each barber with its own default buffers');

-- 7. The history: finished appointments of the past, own late start and overrun, for staff.
INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status,
                                  started_at, finished_at)
VALUES (9001, 1001, 'TAP Full', now() - interval '3 days', 60, 'completed',
        now() - interval '3 days' + interval '5 minutes', now() - interval '3 days' + interval '75 minutes'),
       -- the next one starts late because the first ran over: its own late start is 0
       (9001, 1001, 'TAP Shave', now() - interval '3 days' + interval '60 minutes', 15, 'completed',
        now() - interval '3 days' + interval '75 minutes', now() - interval '3 days' + interval '88 minutes'),
       -- a click on the wrong appointment: 1 second long, left out
       (9001, 1001, 'TAP Full', now() - interval '2 days', 60, 'completed',
        now() - interval '2 days', now() - interval '2 days' + interval '1 second');
SELECT results_eq($$SELECT service, late_start_minutes, overrun_minutes, buffer_after, excluded
                      FROM booking.service_durations(9001, 2001) ORDER BY service$$,
                  $$VALUES ('TAP Full'::text, ARRAY[5]::float8[], ARRAY[10]::float8[], ARRAY[0], 1),
                           ('TAP Shave'::text, ARRAY[0]::float8[], ARRAY[-2]::float8[], ARRAY[0], 0)$$,
                  'service_durations: own late start (not the one inherited), overrun, data errors left out');
SELECT results_eq($$SELECT appointments, work_days FROM booking.service_durations(9001, 2002) WHERE service = 'TAP Full'$$,
                  $$VALUES (2, 2)$$, 'an admin reads them, with the volume a buffer''s cost is counted on');
SELECT throws_ok($$SELECT * FROM booking.service_durations(9002, 2001)$$, 'BK012', pg_temp.msg('BK012'),
                 'another barber may not read them (BK012)');
SELECT throws_ok($$SELECT * FROM booking.service_durations(9001, 1001)$$, 'BK012', pg_temp.msg('BK012'),
                 'nor a client (BK012)');

-- 8. What the conflict model reads: demand, no personal data; a refused attempt is recorded.
SELECT ok(booking.record_booking_attempt(9001, NULL, 'TAP Haircut', '2030-06-05 10:00Z') > 0, 'an attempt is recorded');
SELECT results_eq($$SELECT timezone, cardinality(busy_from), refused_24h, booked_24h > 0
                      FROM booking.slot_demand(9001, '2030-06-04')$$,
                  $$VALUES ('UTC'::text, 5, 1, true)$$,
                  'slot_demand: the zone, the day''s active intervals, refused and made bookings of the last day');

SELECT * FROM finish();
ROLLBACK;
