-- Idempotency keys of booking.book_appointment(): a replay returns the first result with
-- replayed = true and creates nothing; the same key with another request is BK002; keys
-- live at least 24 hours and booking.purge_expired_idempotency_keys() removes expired ones.
-- (Concurrent calls with one key need two sessions: pytest covers them.)
BEGIN;
SELECT plan(43);
\ir fixtures.psql

SELECT id AS first_id, version AS first_version, replayed AS first_replayed, created_at AS first_created
FROM booking.book_appointment(p_barber_id => 9001, p_user_id => 1001, p_service => 'TAP Haircut',
                              p_start => '2030-06-03 10:00Z', p_buffer_before => 5, p_buffer_after => 10,
                              p_notes => 'Short on the sides', p_idempotency_key => 'key-1') \gset
SELECT is(:'first_replayed'::boolean, false, 'the first call with a key is not a replay');
SELECT is(:first_version, 1, 'and creates version 1');

SELECT results_eq(
    $$SELECT id, barber_id, user_id, service_name, start_time, duration_minutes, buffer_time_before,
             buffer_time_after, status, notes, version, created_at, replayed
        FROM booking.book_appointment(p_barber_id => 9001, p_user_id => 1001, p_service => 'TAP Haircut',
                                      p_start => '2030-06-03 10:00Z', p_buffer_before => 5, p_buffer_after => 10,
                                      p_notes => 'Short on the sides', p_idempotency_key => 'key-1')$$,
    format($$VALUES (%s::bigint, 9001::bigint, 1001::bigint, 'TAP Haircut'::text, '2030-06-03 10:00Z'::timestamptz,
                     30, 5, 10, 'scheduled'::text, 'Short on the sides'::text, 1, %L::timestamptz, true)$$,
           :first_id, :'first_created'),
    'the replay returns the first result, every column, with replayed = true');
SELECT is((SELECT count(*)::int FROM booking.appointments WHERE barber_id = 9001), 1, 'the replay created nothing');
SELECT is((SELECT count(*)::int FROM booking.idempotency_keys WHERE idempotency_key = 'key-1'), 1,
          'the key is stored once');
SELECT results_eq(
    $$SELECT id, replayed FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 12:00+02',
                                                        5, 10, 'Short on the sides', 'key-1')$$,
    format('VALUES (%s::bigint, true)', :first_id),
    'the same instant written with another offset, positionally, is the same request');
SET LOCAL TimeZone = 'Pacific/Auckland';
SELECT results_eq(
    $$SELECT id, replayed FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z',
                                                        5, 10, 'Short on the sides', 'key-1')$$,
    format('VALUES (%s::bigint, true)', :first_id),
    'the session''s TimeZone does not change the request');
RESET TimeZone;

-- The same key with anything different is BK002, and creates nothing.
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(%s, 'key-1')$$, args),
                 'BK002', pg_temp.msg('BK002'),
                 format('key-1 with %s is BK002', d))
FROM (VALUES
    ($$9001, 1001, 'TAP Haircut', '2030-06-03 11:00Z', 5, 10, 'Short on the sides'$$, 'another start'),
    ($$9001, 1001, 'TAP Shave', '2030-06-03 10:00Z', 5, 10, 'Short on the sides'$$, 'another service'),
    ($$9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z', 0, 10, 'Short on the sides'$$, 'another buffer before'),
    ($$9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z', 5, 10, NULL$$, 'no notes')
) AS v(args, d);

-- Without a key, or with another key, the same request is a new booking: here a conflict.
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z', 5, 10, 'Short on the sides', 'key-2')$$,
                 '23P01', 'This time slot conflicts with an existing appointment',
                 'another key with the same request books again, and conflicts');
SELECT results_eq(
    $$SELECT replayed, start_time FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 14:00Z', p_idempotency_key => 'key-2')$$,
    $$VALUES (false, '2030-06-03 14:00Z'::timestamptz)$$,
    'a key whose first call failed was not kept: it books another request');

-- The replay answers as the first call did, even after the appointment changed.
SELECT lives_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 1001)$$, :first_id), 'the first booking is cancelled');
SELECT results_eq(
    $$SELECT id, status, version, replayed FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z',
                                                                        5, 10, 'Short on the sides', 'key-1')$$,
    format($$VALUES (%s::bigint, 'scheduled'::text, 1, true)$$, :first_id),
    'a replay still returns the first result and books nothing');
SELECT is((SELECT count(*)::int FROM booking.appointments WHERE status <> 'cancelled'), 1, 'nothing new was booked');

-- Keys are kept at least 24 hours.
SELECT ok((SELECT bool_and(expires_at >= now() + interval '24 hours') FROM booking.idempotency_keys),
          'stored keys expire no sooner than 24 hours after their first use');
SET LOCAL booking.idempotency_key_ttl = '1 hour';
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 10:00Z', p_idempotency_key => 'key-3')$$,
                'booking with booking.idempotency_key_ttl = 1 hour');
SELECT is((SELECT expires_at FROM booking.idempotency_keys WHERE idempotency_key = 'key-3'), now() + interval '24 hours',
          'a TTL below 24 hours is raised to 24 hours');
SET LOCAL booking.idempotency_key_ttl = '48 hours';
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-03 11:00Z', p_idempotency_key => 'key-4')$$,
                'booking with booking.idempotency_key_ttl = 48 hours');
SELECT is((SELECT expires_at FROM booking.idempotency_keys WHERE idempotency_key = 'key-4'), now() + interval '48 hours',
          'a longer TTL is honoured');
RESET booking.idempotency_key_ttl;

-- Expired keys: purged, and reusable.
SELECT is(booking.purge_expired_idempotency_keys(), 0::bigint, 'purging with no expired key deletes nothing');
UPDATE booking.idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key IN ('key-2', 'key-3');
SELECT is(booking.purge_expired_idempotency_keys(), 2::bigint, 'purging deletes the two expired keys');
SELECT set_eq($$SELECT idempotency_key FROM booking.idempotency_keys$$, ARRAY['key-1', 'key-4'],
              'and keeps the others');
UPDATE booking.idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = 'key-1';
SELECT results_eq(
    $$SELECT replayed, start_time FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-04 10:00Z', p_idempotency_key => 'key-1')$$,
    $$VALUES (false, '2030-06-04 10:00Z'::timestamptz)$$,
    'an expired key, even before it is purged, may be used for a new request');

-- A key belongs to the acting user: another user's key-1 is another key.
SELECT results_eq(
    $$SELECT user_id, replayed FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-06 10:00Z',
                                                             p_idempotency_key => 'key-1')$$,
    $$VALUES (1002::bigint, false)$$,
    'user 1002 may use the key user 1001 used: it books for 1002, it neither replays nor mismatches');
SELECT is((SELECT count(*)::int FROM booking.idempotency_keys WHERE idempotency_key = 'key-1'), 2,
          'the two users'' key-1 are two rows');

-- The key's form: 1 to 200 printable ASCII characters, no spaces (the one rule; HTTP uses it too).
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-05 10:00Z', p_idempotency_key => %L)$$, k),
                 'BK008', pg_temp.msg('BK008'), format('the key %s is BK008', d))
FROM (VALUES ('', 'empty'), (repeat('k', 201), 'of 201 characters'), ('with space', 'with a space'),
             ('clé', 'with a non-ASCII letter'), (E'tab\there', 'with a tab')) AS v(k, d);
SELECT lives_ok(format($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-06-05 10:00Z', p_idempotency_key => %L)$$,
                       repeat('k', 200)),
                'a key of 200 characters is fine');
SELECT is(length((pg_temp.error_of(format($$SELECT * FROM booking.book_appointment(9002, 1001, 'TAP Haircut',
                                                  '2030-06-05 11:00Z', p_idempotency_key => %L)$$, repeat('x', 60000)))).detail) < 200,
          true, 'a 60,000-character key is not echoed whole in the DETAIL');

-- A replay returns exactly the first row whatever the session's DateStyle and TimeZone
-- (the stored result used to carry the blocked interval as text in the session's style).
SET LOCAL DateStyle = 'SQL, DMY';
SET LOCAL TimeZone = 'Asia/Kolkata';
SELECT id AS style_id
  FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-03-14 10:00Z', 15, 15, p_idempotency_key => 'style-1') \gset
SET LOCAL DateStyle = 'ISO, MDY';
SELECT results_eq(
    $$SELECT id, start_time, end_time, booking_date, booking_time, created_at = now(), replayed
        FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-03-14 10:00Z', 15, 15, p_idempotency_key => 'style-1')$$,
    format($$VALUES (%s::bigint, '2030-03-14 10:00Z'::timestamptz, '2030-03-14 10:30Z'::timestamptz, date '2030-03-14',
                     '10:00'::text, true, true)$$, :style_id),
    'made under DateStyle SQL, DMY and TimeZone Asia/Kolkata, replayed under ISO, MDY: the same instants');
SET LOCAL TimeZone = 'America/New_York';
SELECT results_eq(
    $$SELECT start_time, end_time FROM booking.book_appointment(9002, 1001, 'TAP Haircut', '2030-03-14 10:00Z', 15, 15,
                                                                  p_idempotency_key => 'style-1')$$,
    $$VALUES ('2030-03-14 10:00Z'::timestamptz, '2030-03-14 10:30Z'::timestamptz)$$,
    'and under another TimeZone too');
RESET TimeZone;
RESET DateStyle;
SELECT ok((SELECT NOT (result ? 'blocked_during') FROM booking.idempotency_keys WHERE idempotency_key = 'style-1'),
          'the stored result holds no range text, whose reading depends on the session');

-- booking.idempotency_key_ttl: a duration, or a catalogue error.
SELECT throws_ok($$SELECT booking.idempotency_key_ttl()$$, 'BK008', pg_temp.msg('BK008'),
                 format('booking.idempotency_key_ttl = %L is BK008', v))
FROM unnest(ARRAY['forever', '300000 years', '-5 hours', '3651 days', '1e9 hours']) AS v,
     LATERAL set_config('booking.idempotency_key_ttl', v, true) AS s;
SELECT results_eq(
    $$SELECT booking.idempotency_key_ttl() FROM unnest(ARRAY['2 weeks', '36.5 hours', '90 minutes', '']) AS v,
             LATERAL set_config('booking.idempotency_key_ttl', v, true) AS s$$,
    $$VALUES (interval '336 hours'), (interval '36 hours 30 minutes'), (interval '24 hours'), (interval '24 hours')$$,
    'weeks, fractional hours and minutes are read; below 24 hours or empty is 24 hours');
RESET booking.idempotency_key_ttl;

SELECT * FROM finish();
ROLLBACK;
