-- Calendar feeds (issue 15, part 6): keys are issued and revoked only by an admin of the
-- barber's shop or that barber (as the acting role allows), stored as their SHA-256 only;
-- booking.calendar_feed answers a key of that barber (no notes, no client) or such staff
-- (notes too), every status, within a bounded window; an unknown, revoked or other barber's
-- key is BK021 whether or not the barber exists.
BEGIN;
SELECT plan(33);
\ir fixtures.psql

-- 1. Issuing keys.
SELECT booking.issue_calendar_key(9001, sha256('key-one'), 2001) AS k1 \gset
SELECT is((SELECT row(barber_id, key_hash, created_by, revoked_at IS NULL)::text FROM booking.calendar_keys WHERE id = :k1),
          row(9001, sha256('key-one'), 2001, true)::text, 'the barber issues a key for its own feed: its hash is stored');
SELECT is((SELECT count(*)::int FROM information_schema.columns
            WHERE table_schema = 'booking' AND table_name = 'calendar_keys' AND column_name NOT IN
                  ('barber_id', 'id', 'key_hash', 'created_by', 'created_at', 'revoked_at')), 0,
          'and nothing but the hash of the key');
SELECT throws_ok($$SELECT booking.issue_calendar_key(9002, sha256('x'), 2001)$$,
                 'BK012', pg_temp.msg('BK012'), 'a barber cannot issue a key for another barber''s feed');
SELECT throws_ok($$SELECT booking.issue_calendar_key(9001, sha256('x'), 1001)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor can a client');
SELECT booking.issue_calendar_key(9002, sha256('key-two'), 2002) AS k2 \gset
SELECT ok(:k2 IS NOT NULL, 'an admin of every shop issues a key for any barber');
SET LOCAL booking.acting_role = 'client';
SELECT throws_ok($$SELECT booking.issue_calendar_key(9002, sha256('x'), 2002)$$,
                 'BK012', pg_temp.msg('BK012'), 'acting as a client, an admin is not one (booking.acting_role)');
SET LOCAL booking.acting_role = '';
SELECT throws_ok($$SELECT booking.issue_calendar_key(424242, sha256('x'), 2002)$$,
                 'BK003', pg_temp.msg('BK003'), 'an unknown barber is BK003');
SELECT throws_ok($$SELECT booking.issue_calendar_key(9001, '\x00'::bytea, 2001)$$,
                 'BK008', pg_temp.msg('BK008'), 'a hash that is not 32 bytes is BK008');
SELECT throws_ok($$SELECT booking.issue_calendar_key(9001, sha256('key-one'), 2001)$$,
                 '23505', NULL, 'one key is issued once');

-- 2. The feed by key: that barber's appointments, every status, no notes; nothing else.
SELECT id AS a1 FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z', p_notes => 'private') \gset
SELECT id AS a2 FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-03 11:00Z') \gset
SELECT id AS a3 FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT booking.cancel_appointment(:a2, 1002);
SELECT results_eq(
    $$SELECT id, status, version, notes, start_time, end_time
        FROM booking.calendar_feed(9001, NULL, sha256('key-one'), '2030-06-01Z', '2030-07-01Z')$$,
    format($$VALUES (%s::bigint, 'scheduled'::text, 1, NULL::text, '2030-06-03 10:00Z'::timestamptz, '2030-06-03 10:30Z'::timestamptz),
                    (%s, 'cancelled', 2, NULL, '2030-06-03 11:00Z', '2030-06-03 11:30Z')$$, :a1, :a2),
    'a key reads its barber''s appointments oldest first, cancelled ones too, without notes');
SELECT is((SELECT row(barber_name, timezone, service_name)::text
             FROM booking.calendar_feed(9001, NULL, sha256('key-one'), '2030-06-01Z', '2030-07-01Z') LIMIT 1),
          row('TAP Free UTC', 'UTC', 'TAP Haircut')::text, 'with the barber''s name and zone and the service');
SELECT is((SELECT count(*)::int FROM information_schema.routines r
             JOIN information_schema.parameters p ON p.specific_name = r.specific_name
            WHERE r.routine_schema = 'booking' AND r.routine_name = 'calendar_feed'
              AND p.parameter_mode = 'OUT' AND p.parameter_name = 'user_id'), 0,
          'the feed has no client column at all');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9002, NULL, sha256('key-one'))$$,
                 'BK021', pg_temp.msg('BK021'), 'a key of another barber is BK021');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(424242, NULL, sha256('key-one'))$$,
                 'BK021', pg_temp.msg('BK021'), 'so is any key for a barber that does not exist');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9001, NULL, sha256('never issued'))$$,
                 'BK021', pg_temp.msg('BK021'), 'and a key never issued');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9001, 2001, sha256('never issued'))$$,
                 'BK021', pg_temp.msg('BK021'), 'a key is checked even when a staff user is named too');

-- 3. The feed for staff: the barber and the admins, with notes.
SELECT is((SELECT notes FROM booking.calendar_feed(9001, 2001, NULL, '2030-06-01Z', '2030-07-01Z') WHERE id = :a1),
          'private', 'the barber reads its feed, notes included');
SELECT is((SELECT count(*)::int FROM booking.calendar_feed(9002, 2002, NULL, '2030-06-01Z', '2030-07-01Z')), 1,
          'an admin reads any barber''s feed');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9002, 2001)$$,
                 'BK012', pg_temp.msg('BK012'), 'a barber cannot read another barber''s feed');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9001, 1001)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor can a client, even one with appointments there');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(424242, 2002)$$,
                 'BK003', pg_temp.msg('BK003'), 'staff asking for an unknown barber get BK003');
SET LOCAL booking.acting_role = 'barber';
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9002, 2002)$$,
                 'BK012', pg_temp.msg('BK012'), 'an admin acting as a barber is no admin');
SET LOCAL booking.acting_role = '';

-- 4. The window: by default 30 days back to 365 ahead; at most 400 days.
INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
VALUES (9005, 1001, 'TAP Haircut', now() - interval '31 days', 30),
       (9005, 1001, 'TAP Haircut', now() - interval '29 days', 30),
       (9005, 1001, 'TAP Haircut', now() + interval '364 days', 30),
       (9005, 1001, 'TAP Haircut', now() + interval '366 days', 30);
SELECT results_eq($$SELECT start_time - now() FROM booking.calendar_feed(9005, 2002)$$,
                  $$VALUES (interval '-29 days'), (interval '364 days')$$,
                  'by default the feed covers starts from 30 days ago to 365 days ahead');
SELECT is((SELECT count(*)::int FROM booking.calendar_feed(9005, 2002, NULL, now() - interval '40 days')), 2,
          'from 40 days ago, it covers 395 days (to 355 days ahead)');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9005, 2002, NULL, '2030-01-01Z', '2031-02-06Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'a window of more than 400 days is BK008');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9005, 2002, NULL, '2030-01-01Z', '2030-01-01Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'an empty window is BK008');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9005, 2002, NULL, '-infinity', '2030-01-01Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'an unbounded one too');

-- 5. Revoking.
SELECT is(booking.revoke_calendar_key(9001, :k1, 2001), true, 'the barber revokes its key');
SELECT throws_ok($$SELECT * FROM booking.calendar_feed(9001, NULL, sha256('key-one'))$$,
                 'BK021', pg_temp.msg('BK021'), 'a revoked key is BK021, like one never issued');
SELECT is(booking.revoke_calendar_key(9001, :k1, 2002), false, 'revoking twice answers false, harmlessly');
SELECT throws_ok(format($$SELECT booking.revoke_calendar_key(9001, %s, 2002)$$, :k2),
                 'BK021', pg_temp.msg('BK021'), 'a key of another barber is not found');
SELECT throws_ok(format($$SELECT booking.revoke_calendar_key(9002, %s, 1001)$$, :k2),
                 'BK012', pg_temp.msg('BK012'), 'a client cannot revoke a key');

-- 6. At most 20 live keys per barber.
SELECT booking.issue_calendar_key(9002, sha256(('more' || i)::bytea), 2002) FROM generate_series(1, 19) AS i;
SELECT throws_ok($$SELECT booking.issue_calendar_key(9002, sha256('one too many'), 2002)$$,
                 'BK008', pg_temp.msg('BK008'), 'the 21st live key of a barber is refused: revoke one first');

SELECT * FROM finish();
ROLLBACK;
