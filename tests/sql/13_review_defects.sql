-- The defects an adversarial review of the engine found (issue 10), one block each: every
-- test here failed on the engine before the fix. (Those that need two sessions, a key
-- waited on and REPEATABLE READ conflicts, are in tests/py/db/test_review_defects.py.)
BEGIN;
SELECT plan(45);
\ir fixtures.psql

INSERT INTO booking.barbers (id, name, timezone) VALUES
    (9101, 'TAP Seam', 'UTC'),            -- Monday 09:00-12:00 and 12:00-17:00
    (9102, 'TAP Night split', 'UTC'),     -- Monday 22:00-24:00, Tuesday 00:00-06:00
    (9103, 'TAP Night row', 'UTC'),       -- Monday 22:00-06:00 (one row across midnight)
    (9104, 'TAP Seam Paris', 'Europe/Paris');  -- Monday 09:00-12:00 and 11:00-17:00 (overlapping rows)
INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES
    (9101, 1, '09:00', '12:00'), (9101, 1, '12:00', '17:00'),
    (9102, 1, '22:00', '24:00'), (9102, 2, '00:00', '06:00'),
    (9103, 1, '22:00', '06:00'),
    (9104, 1, '09:00', '12:00'), (9104, 1, '11:00', '17:00');

-- 1. An infinite or out-of-range date is a catalogue error at once, never an endless
--    series (it wrote temp files at 230 MB/s until a client-side timeout).
SELECT throws_ok(format($$SELECT * FROM booking.free_slots(%s, %L::date, 'TAP Haircut')$$, coalesce(b::text, 'NULL'), d),
                 'BK008', pg_temp.msg('BK008'), format('free_slots(%s, %s) is BK008', coalesce(b::text, 'any barber'), d))
FROM unnest(ARRAY[9001, NULL]) AS b, unnest(ARRAY['infinity', '-infinity', '0044-03-15 BC']) AS d;
SELECT throws_ok(format($$SELECT booking.local_start(9001, %L::date, '10:00')$$, d),
                 'BK008', pg_temp.msg('BK008'), format('local_start on %s is BK008, not 22008', d))
FROM unnest(ARRAY['infinity', '-infinity']) AS d;
SELECT is_empty($$SELECT * FROM booking.free_slots(9001, '9999-12-31', 'TAP Haircut')$$,
                'free_slots on 9999-12-31 answers (no start before the engine''s last instant)');
SELECT is_empty($$SELECT * FROM booking.free_slots(9001, '0001-01-01', 'TAP Haircut')$$,
                'free_slots on 0001-01-01 answers: all in the past');
SELECT ok((SELECT count(*) FROM booking.free_slots(9005, '9999-12-30', 'TAP Haircut')) > 0,
          'free_slots on 9999-12-30 still offers the starts before 9999-12-31 00:00 UTC');

-- 5. Raw internal errors became catalogue errors.
SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_date": "9999-12-31"}')$$, :a),
                 'BK008', pg_temp.msg('BK008'), 'moving to 9999-12-31 is BK008, not 23514 with the failing row');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "9999-12-31T10:00:00Z"}')$$, :a),
                 'BK008', pg_temp.msg('BK008'), 'a start_time on 9999-12-31 is BK008');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', booking.local_start(9001, '9999-12-31', '10:00'))$$,
                 'BK008', pg_temp.msg('BK008'), 'booking 9999-12-31 10:00 is BK008');
SET LOCAL booking.application_checks = 'maybe';
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'booking.application_checks = maybe is BK008, not 22P02');
RESET booking.application_checks;
SET LOCAL booking.lock_timeout = 'soon';
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'booking.lock_timeout = soon is BK008, not 22023');
SET LOCAL booking.lock_timeout = '0';
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'booking.lock_timeout = 0 (wait forever) is BK008');
SET LOCAL booking.lock_timeout = '99999999999999s';
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'booking.lock_timeout beyond 2147483647 ms is BK008');
RESET booking.lock_timeout;
SET LOCAL booking.idempotency_key_ttl = '300000 years';
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z', p_idempotency_key => 'ttl')$$,
                 'BK008', pg_temp.msg('BK008'), 'booking.idempotency_key_ttl = 300000 years is BK008, not 22008');
RESET booking.idempotency_key_ttl;

-- 6. 24:00 (and 23:59:60, which PostgreSQL reads as 24:00) is refused everywhere.
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, %L)$$, :a, c::jsonb),
                 'BK008', pg_temp.msg('BK008'), format('update_appointment with %s is BK008', c))
FROM unnest(ARRAY['{"booking_time": "24:00"}', '{"booking_time": "23:59:60"}',
                  '{"booking_date": "2030-06-04", "booking_time": "24:00"}']) AS c;
SELECT throws_ok(format($$SELECT booking.local_start(9001, '2030-06-03', %L)$$, t),
                 'BK008', pg_temp.msg('BK008'), format('local_start at %s is BK008', t))
FROM unnest(ARRAY['24:00', '23:59:60']) AS t;
SELECT is((SELECT start_time FROM booking.appointments WHERE id = :a), '2030-06-03 10:00Z'::timestamptz,
          'the refused changes moved nothing');

-- 7. Working time is contiguous across shift seams and midnight.
SELECT ok(EXISTS (SELECT 1 FROM booking.free_slots(9101, '2030-06-03', 'TAP Full') WHERE start_time = '2030-06-03 11:30Z'),
          'shifts 09-12 and 12-17: free_slots offers a 60-minute start across the seam (11:30)');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9101, 1001, 'TAP Haircut', '2030-06-03 11:45Z')$$,
                'and 11:45-12:15 across the seam is bookable');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9102, 1001, 'TAP Full', '2030-06-03 23:30Z')$$,
                'a night barber working 22:00-24:00 then 00:00-06:00 takes 23:30-00:30');
SELECT ok(EXISTS (SELECT 1 FROM booking.free_slots(9103, '2030-06-03', 'TAP Full') WHERE start_time = '2030-06-03 23:30Z'),
          'free_slots offers 23:30 to a barber whose one row is 22:00-06:00');
SELECT ok(EXISTS (SELECT 1 FROM booking.free_slots(9103, '2030-06-04', 'TAP Full') WHERE start_time = '2030-06-04 05:00Z'),
          'and 05:00 on the next day, inside the same row');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9103, 1001, 'TAP Full', '2030-06-03 23:30Z')$$,
                'the row across midnight takes 23:30-00:30');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9103, 1001, 'TAP Full', '2030-06-04 05:30Z')$$,
                 'BK006', pg_temp.msg('BK006'), 'but not 05:30-06:30, past its end');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9103, 1001, 'TAP Full', '2030-06-03 21:30Z')$$,
                 'BK006', pg_temp.msg('BK006'), 'nor 21:30-22:30, before its start');
SELECT is_empty($$SELECT * FROM booking.free_slots(9103, '2030-06-04', 'TAP Full') WHERE start_time >= '2030-06-04 05:15Z'$$,
                'free_slots offers nothing that would end after 06:00');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9104, 1001, 'TAP Full', '2030-06-03 09:30Z')$$,
                'overlapping rows (09-12, 11-17 in Paris) make one stretch: 11:30-12:30 local is bookable');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9003, 1001, 'TAP Full', '2030-06-03 09:30Z')$$,
                 'BK006', pg_temp.msg('BK006'), 'a real gap (12:00-13:00) still refuses 11:30-12:30');

-- 8. "Any barber" takes the slot locks of at most 16 candidates, however many there are.
INSERT INTO booking.services (name, duration_minutes) VALUES ('TAP Day', 1440);
INSERT INTO booking.barbers (id, name, timezone) SELECT 9200 + i, 'TAP Many ' || i, 'UTC' FROM generate_series(1, 60) AS i;
CREATE TEMP TABLE locks_before AS
    SELECT count(*) AS n FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid = booking.lock_namespace('slot');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(NULL, 1001, 'TAP Day', '2030-07-01 12:00Z', 1440, 1440)$$,
                'an "any barber" booking of a day with a day of buffers on each side, among 60+ barbers');
SELECT cmp_ok((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                 AND classid = booking.lock_namespace('slot')) - (SELECT n FROM locks_before),
              '<=', 16 * 4::bigint, 'it took the locks of at most 16 barbers (4 UTC days each), not of all');

-- 9. Slot locks: namespaced, and an interval across UTC midnight holds both days' locks.
SELECT id AS night FROM booking.book_appointment(9201, 1001, 'TAP Haircut', '2030-07-10 23:45Z') \gset
SELECT ok(EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                    AND classid = booking.lock_namespace('slot') AND objid::bigint = (booking.slot_lock_key(9201, d) & 4294967295)
                    AND objsubid = 2),
          format('23:45-00:15 UTC holds the slot lock of UTC day %s', d))
FROM unnest(ARRAY[(date '2030-07-10' - date '1970-01-01'), (date '2030-07-11' - date '1970-01-01')]) AS d;
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
             AND classid NOT IN (booking.lock_namespace('slot'), booking.lock_namespace('idempotency_key'),
                                 booking.lock_namespace('barber_schedule'))), 0::bigint,
          'the engine takes advisory locks only in its own namespaces');

-- 9. Echoed input is capped.
SELECT cmp_ok(length((pg_temp.error_of(format($$SELECT * FROM booking.book_appointment(9201, 1001, %L, '2030-06-03 10:00Z')$$,
                                              repeat('s', 60000)))).detail), '<', 200,
              'a 60,000-character service name is not echoed whole (BK004)');
SELECT cmp_ok(length((pg_temp.error_of(format($$SELECT * FROM booking.free_slots(NULL, '2030-06-03', %L)$$,
                                              repeat('s', 60000)))).detail), '<', 200,
              'nor by the any-barber slot search');
SELECT cmp_ok(length((pg_temp.error_of(format($$SELECT * FROM booking.update_appointment(%s, 1001, %L)$$, :night,
                                              jsonb_build_object('booking_time', repeat('9', 60000))))).detail), '<', 200,
              'nor by update_appointment');
SELECT cmp_ok(length((pg_temp.error_of(format($$SELECT * FROM booking.update_appointment(%s, 1001, %L)$$, :night,
                                              jsonb_build_object(repeat('k', 60000), 1)))).detail), '<', 400,
              'nor an unknown change key');

SELECT * FROM finish();
ROLLBACK;
