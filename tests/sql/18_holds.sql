-- Holds (issue 15, part 4): a hold takes a slot through the same exclusion constraint as an
-- appointment; an expired hold blocks nobody without a sweeper; confirming makes the same
-- row the appointment, once; a released or expired hold cannot be confirmed; availability
-- shows a live hold as taken and an expired one as free; the change feed says held,
-- released and booked. now() is the transaction's start: expiry is simulated by moving a
-- hold's hold_expires_at into the past, as time passing would.
BEGIN;
SELECT plan(35);
\ir fixtures.psql

-- 1. A hold is booked like an appointment, and blocks like one.
SELECT id AS h1 FROM booking.hold_slot(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT is((SELECT row(status, version, user_id)::text FROM booking.appointments WHERE id = :h1),
          row('held', 1, 1001)::text, 'hold_slot makes a row of status held, version 1');
SELECT is((SELECT hold_expires_at FROM booking.appointments WHERE id = :h1), now() + interval '5 minutes',
          'it lasts the shop''s hold_minutes (5 by default) from now()');
SELECT is((SELECT hold_expires_at FROM booking.get_appointment(:h1, 1001)), now() + interval '5 minutes',
          'the answers carry hold_expires_at');
SELECT throws_ok($$SELECT booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 10:15Z')$$,
                 '23P01', pg_temp.msg('23P01'), 'a live hold blocks an overlapping booking');
SELECT throws_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                   VALUES (9001, 1002, 'TAP Haircut', '2030-06-03 10:15Z', 30)$$,
                 '23P01', NULL, 'and a direct INSERT (the trigger)');
SELECT throws_ok($$SELECT booking.hold_slot(9001, 1002, 'TAP Haircut', '2030-06-03 09:45Z')$$,
                 '23P01', pg_temp.msg('23P01'), 'and another hold');
SELECT is((SELECT count(*)::int FROM booking.free_slots(9001, '2030-06-03', 'TAP Haircut') s
            WHERE s.start_time = '2030-06-03 10:00Z'), 0, 'availability shows a live hold as taken');

-- 2. Confirming: the same row becomes the appointment, once.
SELECT is((SELECT row(id, status, version, replayed)::text FROM booking.confirm_hold(:h1, 1001)),
          row(:h1, 'scheduled', 2, false)::text, 'confirm_hold makes the hold the appointment (same id)');
SELECT is((SELECT row(id, status, version, replayed)::text FROM booking.confirm_hold(:h1, 1001)),
          row(:h1, 'scheduled', 2, true)::text, 'a second confirm replays it and changes nothing');
SELECT throws_ok(format($$SELECT booking.confirm_hold(%s, 1002)$$, :h1),
                 'BK011', pg_temp.msg('BK011'), 'a stranger cannot confirm someone else''s hold');
SELECT throws_ok($$SELECT booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 10:15Z')$$,
                 '23P01', pg_temp.msg('23P01'), 'the confirmed appointment still holds the slot');
SELECT id AS b1 FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 15:00Z') \gset
SELECT throws_ok(format($$SELECT booking.confirm_hold(%s, 1002)$$, :b1),
                 'BK018', pg_temp.msg('BK018'), 'an appointment that was booked is not a hold');

-- 3. An expired hold blocks nobody, with no sweeper.
SELECT id AS h2 FROM booking.hold_slot(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
UPDATE booking.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = :h2;
SELECT is((SELECT status FROM booking.appointments WHERE id = :h2), 'held',
          'nothing has marked the hold expired yet');
SELECT is((SELECT count(*)::int FROM booking.free_slots(9002, '2030-06-03', 'TAP Haircut') s
            WHERE s.start_time = '2030-06-03 10:00Z'), 1, 'availability shows a hold past its expiry as free');
SELECT throws_ok(format($$SELECT booking.confirm_hold(%s, 1001)$$, :h2),
                 'BK017', pg_temp.msg('BK017'), 'a hold past its expiry cannot be confirmed');
SELECT is((SELECT status FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-03 10:15Z')),
          'scheduled', 'a booking over an expired hold succeeds');
SELECT is((SELECT row(status, version)::text FROM booking.appointments WHERE id = :h2), row('expired', 2)::text,
          'and the write that met it marked it expired (a new version: the feed says released)');
SELECT throws_ok(format($$SELECT booking.confirm_hold(%s, 1001)$$, :h2),
                 'BK017', pg_temp.msg('BK017'), 'an expired hold stays unconfirmable');
SELECT throws_ok(format($$SELECT booking.cancel_appointment(%s, 1001)$$, :h2),
                 'BK010', pg_temp.msg('BK010'), 'expired is final');
-- A direct INSERT over an expired hold is let in too (the trigger expires it).
SELECT id AS h3 FROM booking.hold_slot(9002, 1001, 'TAP Haircut', '2030-06-03 12:00Z') \gset
UPDATE booking.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = :h3;
SELECT lives_ok($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                  VALUES (9002, 1002, 'TAP Haircut', '2030-06-03 12:10Z', 30)$$,
                'a direct INSERT over an expired hold succeeds');
SELECT is((SELECT status FROM booking.appointments WHERE id = :h3), 'expired', 'and expires it');

-- 4. Releasing, and what a hold may not do.
SELECT id AS h4 FROM booking.hold_slot(9005, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT throws_ok(format($$SELECT booking.update_appointment(%s, 1001, '{"notes": "later"}')$$, :h4),
                 'BK008', pg_temp.msg('BK008'), 'a hold is not changed');
SELECT is((SELECT status FROM booking.cancel_appointment(:h4, 1001)), 'cancelled', 'its client releases it');
SELECT throws_ok(format($$SELECT booking.confirm_hold(%s, 1001)$$, :h4),
                 'BK017', pg_temp.msg('BK017'), 'a released hold cannot be confirmed');
SELECT lives_ok($$SELECT booking.book_appointment(9005, 1002, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                'its slot is free again');

-- 5. Keys: a hold's key is not a booking's.
SELECT lives_ok($$SELECT booking.hold_slot(9004, 1001, 'TAP Haircut', '2030-06-03 16:00Z', p_idempotency_key => 'h-1')$$,
                'a hold with a key');
SELECT is((SELECT replayed FROM booking.hold_slot(9004, 1001, 'TAP Haircut', '2030-06-03 16:00Z', p_idempotency_key => 'h-1')),
          true, 'replays as a hold');
SELECT throws_ok($$SELECT booking.book_appointment(9004, 1001, 'TAP Haircut', '2030-06-03 16:00Z', p_idempotency_key => 'h-1')$$,
                 'BK002', pg_temp.msg('BK002'), 'and the same key for a booking of the same slot is another request');

-- 6. The change feed's kinds (booking.appointment_change_events, the one rule of both feeds).
CREATE TEMP TABLE rows_of AS
    SELECT to_jsonb(a) AS j FROM booking.appointments a WHERE a.id = :h4;
SELECT is((SELECT kind FROM booking.appointment_change_events(NULL,
              jsonb_populate_record(NULL::booking.appointments, (SELECT j FROM rows_of) || '{"status": "held", "version": 1}'))),
          'held', 'a new hold is announced as held');
SELECT is((SELECT kind FROM booking.appointment_change_events(
              jsonb_populate_record(NULL::booking.appointments, (SELECT j FROM rows_of) || '{"status": "held", "version": 1}'),
              jsonb_populate_record(NULL::booking.appointments, (SELECT j FROM rows_of) || '{"status": "scheduled", "version": 2}'))),
          'booked', 'a confirmed hold as booked');
SELECT is((SELECT kind FROM booking.appointment_change_events(
              jsonb_populate_record(NULL::booking.appointments, (SELECT j FROM rows_of) || '{"status": "held", "version": 1}'),
              jsonb_populate_record(NULL::booking.appointments, (SELECT j FROM rows_of) || '{"status": "expired", "version": 2}'))),
          'released', 'an expired hold as released');

-- 7. The shop says how long a hold lasts.
SELECT is((SELECT hold_minutes FROM booking.set_hold_minutes(1, 12)), 12, 'set_hold_minutes changes it');
SELECT is((SELECT hold_expires_at FROM booking.hold_slot(9004, 1002, 'TAP Haircut', '2030-06-03 18:00Z')),
          now() + interval '12 minutes', 'and a new hold lasts that long');
SELECT throws_ok($$SELECT booking.set_hold_minutes(1, 0)$$, 'BK008', pg_temp.msg('BK008'), '0 minutes is refused');
SELECT throws_ok($$SELECT booking.set_hold_minutes(1, 10, 1001)$$, 'BK012', pg_temp.msg('BK012'),
                 'a client may not change it');

SELECT * FROM finish();
ROLLBACK;
