-- Recurring bookings (issue 15, part 5): every N weeks, K occurrences, at one local time in
-- the barber's zone across a DST change; all or nothing, the refusal naming the first
-- occurrence refused; each occurrence an ordinary appointment linked by series_id;
-- cancel_following cancels one and the later ones; a key replays the series.
BEGIN;
SELECT plan(19);
\ir fixtures.psql
INSERT INTO booking.barbers (id, name, timezone) VALUES (9101, 'TAP London', 'Europe/London');

-- 1. Weekly, across the start of British Summer Time (2030-03-31).
CREATE TEMP TABLE s1 AS SELECT * FROM booking.book_series(9101, 1001, 'TAP Haircut', '2030-03-17', '10:00', 1, 4);
SELECT is((SELECT count(*)::int FROM s1), 4, 'four occurrences');
SELECT is((SELECT array_agg(booking_time ORDER BY start_time) FROM s1), ARRAY['10:00', '10:00', '10:00', '10:00'],
          'all at 10:00 local');
SELECT is((SELECT array_agg(start_time ORDER BY start_time) FROM s1),
          ARRAY['2030-03-17 10:00Z', '2030-03-24 10:00Z', '2030-03-31 09:00Z', '2030-04-07 09:00Z']::timestamptz[],
          'the instant moves with the offset (GMT, then BST)');
SELECT is((SELECT count(DISTINCT series_id)::int FROM s1), 1, 'one series');
SELECT is((SELECT series_id FROM s1 ORDER BY start_time LIMIT 1), (SELECT min(id) FROM s1),
          'its id is the first occurrence''s');
SELECT is((SELECT array_agg(DISTINCT version) FROM booking.appointments WHERE series_id = (SELECT min(id) FROM s1)),
          ARRAY[1], 'linking them made no new version');

-- 2. All or nothing, naming the first occurrence refused.
SELECT throws_ok($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '2030-03-10', '10:15', 1, 4)$$,
                 '23P01', pg_temp.msg('23P01'), 'a series meeting one appointment is refused');
SELECT is((SELECT count(*)::int FROM booking.appointments WHERE user_id = 1002), 0, 'and nothing of it was booked');
CREATE FUNCTION pg_temp.hint_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
    EXECUTE p_sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v = PG_EXCEPTION_HINT;
    RETURN v;
END $$;
SELECT alike(pg_temp.hint_of($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '2030-03-10', '10:15', 1, 4)$$),
            'Occurrence 2 of 4, 2030-03-17: nothing of the series was booked.%',
            'the HINT names the first occurrence refused and its date');
SELECT throws_ok($$SELECT booking.book_series(9003, 1002, 'TAP Haircut', '2030-06-03', '12:30', 1, 3)$$,
                 'BK006', pg_temp.msg('BK006'), 'an occurrence outside working hours refuses the series');
-- 01:30 on the day the clocks go forward does not exist in London.
SELECT throws_ok($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '2030-03-24', '01:30', 1, 2)$$,
                 'BK007', pg_temp.msg('BK007'), 'a local time that does not exist on one date refuses the series');

-- 3. Limits.
SELECT throws_ok($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '2030-09-02', '10:00', 1, 0)$$,
                 'BK008', pg_temp.msg('BK008'), '0 occurrences');
SELECT throws_ok($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '2030-09-02', '10:00', 1, 101)$$,
                 'BK008', pg_temp.msg('BK008'), '101 occurrences');
SELECT throws_ok($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '2030-09-02', '10:00', 53, 2)$$,
                 'BK008', pg_temp.msg('BK008'), 'every 53 weeks');
SELECT throws_ok($$SELECT booking.book_series(9101, 1002, 'TAP Haircut', '9999-12-20', '10:00', 1, 3)$$,
                 'BK008', pg_temp.msg('BK008'), 'a last date past 9999-12-30');

-- 4. Keys: the series replays.
SELECT is((SELECT array_agg(replayed) FROM booking.book_series(9002, 1002, 'TAP Haircut', '2030-09-02', '10:00', 2, 3,
                                                               p_idempotency_key => 'series-1')),
          ARRAY[false, false, false], 'a keyed series');
SELECT is((SELECT array_agg(replayed) FROM booking.book_series(9002, 1002, 'TAP Haircut', '2030-09-02', '10:00', 2, 3,
                                                               p_idempotency_key => 'series-1')),
          ARRAY[true, true, true], 'sent again, replays every occurrence and books nothing');

-- 5. Cancel this and the following.
SELECT is((SELECT array_agg(start_time ORDER BY start_time)
             FROM booking.cancel_following((SELECT id FROM s1 ORDER BY start_time OFFSET 1 LIMIT 1), 1001)),
          ARRAY['2030-03-24 10:00Z', '2030-03-31 09:00Z', '2030-04-07 09:00Z']::timestamptz[],
          'cancel_following cancels the second and the later occurrences');
SELECT is((SELECT status FROM booking.appointments WHERE id = (SELECT min(id) FROM s1)), 'scheduled',
          'the first stays');

SELECT * FROM finish();
ROLLBACK;
