-- The change feed: the trigger appointments_publish_event writes one event per booking,
-- change or cancellation, whoever the writer (two when an appointment moves between
-- barbers); booking.events_since() reads a barber's events after an id, oldest first;
-- booking.purge_old_appointment_events() deletes old events and keeps at least an hour.
-- (LISTEN/NOTIFY delivery needs two sessions: pytest covers it.)
BEGIN;
SELECT plan(14);
\ir fixtures.psql

SELECT booking.latest_event_id(9001) AS before_9001, booking.latest_event_id(9002) AS before_9002 \gset

SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT results_eq(
    format($$SELECT kind, appointment_id, (payload->>'version')::int, payload->>'start_time'
               FROM booking.events_since(9001, %s)$$, :before_9001),
    format($$VALUES ('booked', %s::bigint, 1, '2030-06-03T10:00:00Z')$$, :a),
    'a booking publishes one booked event, with the version and the RFC 3339 start');

SELECT lives_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_time": "11:00"}', 1)$$, :a),
                'a reschedule');
SELECT lives_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 9002}', 2)$$, :a),
                'a move to another barber');
SELECT lives_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 1001, 3)$$, :a), 'a cancellation');
SELECT results_eq(
    format($$SELECT kind, (payload->>'version')::int FROM booking.events_since(9001, %s)$$, :before_9001),
    $$VALUES ('booked', 1), ('changed', 2), ('changed', 3)$$,
    'barber 9001 sees the booking, the reschedule and the move away, in order');
SELECT results_eq(
    format($$SELECT kind, (payload->>'version')::int FROM booking.events_since(9002, %s)$$, :before_9002),
    $$VALUES ('changed', 3), ('cancelled', 4)$$,
    'barber 9002 sees the move in and the cancellation');
SELECT cmp_ok(booking.latest_event_id(9002), '>', :before_9002::bigint, 'latest_event_id moves on');

-- A direct writer publishes too.
INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
VALUES (9002, 1002, 'TAP Haircut', '2030-06-03 15:00Z', 30);
SELECT is((SELECT kind FROM booking.events_since(9002, :before_9002) ORDER BY id DESC LIMIT 1), 'booked',
          'a direct INSERT publishes a booked event');
-- A write that changes nothing a person sees (no new version) publishes nothing.
SELECT booking.latest_event_id(9002) AS last_9002 \gset
UPDATE booking.appointments SET notes = notes WHERE barber_id = 9002 AND start_time = '2030-06-03 15:00Z';
SELECT is(booking.latest_event_id(9002), :last_9002::bigint, 'an UPDATE that changes nothing publishes nothing');

-- Purging old events.
SELECT is(booking.purge_old_appointment_events(interval '7 days'), 0::bigint, 'nothing is 7 days old yet');
UPDATE booking.appointment_events SET created_at = now() - interval '8 days'
 WHERE barber_id = 9001 AND id > :before_9001;
SELECT is(booking.purge_old_appointment_events(), 3::bigint,
          'the default purge (7 days) deletes the three events made 8 days old');
SELECT is_empty(format($$SELECT * FROM booking.events_since(9001, %s)$$, :before_9001),
                'and they are gone from the feed');
SELECT throws_ok($$SELECT booking.purge_old_appointment_events(interval '59 minutes')$$, 'BK008', pg_temp.msg('BK008'),
                 'less than an hour is refused');
SELECT throws_ok($$SELECT booking.purge_old_appointment_events(NULL)$$, 'BK008', pg_temp.msg('BK008'),
                 'NULL is refused');

SELECT * FROM finish();
ROLLBACK;
