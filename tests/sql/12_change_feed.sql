-- The change feed, in mode outbox (a pgTAP test is one transaction, and logical decoding
-- only sees what committed: tests/py/db/test_change_feed.py covers mode logical, the
-- relay across sessions, and LISTEN/NOTIFY):
--   * the trigger appointments_stage_change stages one change per booking, change or
--     cancellation, whoever the writer (two when an appointment moves between barbers);
--   * nothing is an event until booking.relay_change_feed() moves it, and a second relay
--     finds nothing; booking.events_since() reads a barber's events after an id;
--   * booking.appointment_change_events() is the one rule of what is announced;
--   * booking.purge_old_appointment_events() deletes old events and keeps at least an hour.
BEGIN;
SELECT plan(25);
\ir fixtures.psql

SELECT is(booking.open_outbox_change_feed(), 'outbox', 'the feed can be put in mode outbox');
SELECT is((SELECT status FROM booking.relay_change_feed()), 'ok', 'the relay runs');
SELECT booking.latest_event_id(9001) AS before_9001, booking.latest_event_id(9002) AS before_9002 \gset

SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT is((SELECT count(*) FROM booking.appointment_changes WHERE appointment_id = :a), 1::bigint,
          'a booking stages one change in its own transaction');
SELECT is(booking.latest_event_id(9001), :before_9001::bigint, 'and is not an event before the relay runs');
SELECT results_eq($$SELECT status, events FROM booking.relay_change_feed()$$, $$VALUES ('ok', 1::bigint)$$,
                  'the relay turns it into one event');
SELECT is((SELECT count(*) FROM booking.appointment_changes), 0::bigint, 'and empties the outbox');
SELECT results_eq(
    format($$SELECT kind, appointment_id, version, (payload->>'version')::int, payload->>'start_time'
               FROM booking.events_since(9001, %s)$$, :before_9001),
    format($$VALUES ('booked', %s::bigint, 1, 1, '2030-06-03T10:00:00Z')$$, :a),
    'a booked event, with the version and the RFC 3339 start');
SELECT results_eq($$SELECT events FROM booking.relay_change_feed()$$, $$VALUES (0::bigint)$$,
                  'a second relay finds nothing');

SELECT lives_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_time": "11:00"}', 1)$$, :a),
                'a reschedule');
SELECT lives_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 9002}', 2)$$, :a),
                'a move to another barber');
SELECT lives_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 1001, 3)$$, :a), 'a cancellation');
-- A change that rolls back stages nothing.
SAVEPOINT undone;
SELECT id AS gone FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 16:00Z') \gset
ROLLBACK TO SAVEPOINT undone;
SELECT results_eq($$SELECT events FROM booking.relay_change_feed()$$, $$VALUES (4::bigint)$$,
                  'the relay announces the three changes (four events: the move concerns two barbers)');
SELECT results_eq(
    format($$SELECT kind, version FROM booking.events_since(9001, %s)$$, :before_9001),
    $$VALUES ('booked', 1), ('changed', 2), ('changed', 3)$$,
    'barber 9001 sees the booking, the reschedule and the move away, in order');
SELECT results_eq(
    format($$SELECT kind, version FROM booking.events_since(9002, %s)$$, :before_9002),
    $$VALUES ('changed', 3), ('cancelled', 4)$$,
    'barber 9002 sees the move in and the cancellation');
SELECT is_empty(format($$SELECT 1 FROM booking.appointment_events WHERE appointment_id = %s$$, :gone),
                'the booking that rolled back is never announced');

-- A direct writer is announced too; a write that changes nothing a person sees is not.
INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
VALUES (9002, 1002, 'TAP Haircut', '2030-06-03 15:00Z', 30);
UPDATE booking.appointments SET notes = notes WHERE barber_id = 9002 AND start_time = '2030-06-03 15:00Z';
SELECT results_eq($$SELECT events FROM booking.relay_change_feed()$$, $$VALUES (1::bigint)$$,
                  'a direct INSERT is announced, its no-op UPDATE is not');
SELECT is((SELECT kind FROM booking.events_since(9002, :before_9002) ORDER BY id DESC LIMIT 1), 'booked',
          'as booked');

-- The rule itself.
SELECT is_empty(
    format($$SELECT e.kind FROM booking.appointment_change_events(
          (SELECT a FROM booking.appointments a WHERE a.id = %s), (SELECT a FROM booking.appointments a WHERE a.id = %s)) e$$,
          :a, :a),
    'no event when the version did not move');
SELECT results_eq(
    format($$SELECT e.kind, e.version FROM booking.appointment_change_events(NULL,
          (SELECT a FROM booking.appointments a WHERE a.id = %s)) e$$, :a),
    $$VALUES ('cancelled', 4)$$,
    'an appointment announced late (no old row) is announced by its status');
SELECT is(booking.announce_changed_appointments(now() - interval '1 hour'), 0::bigint,
          'catch-up announces nothing that already has its event');
DELETE FROM booking.appointment_events WHERE appointment_id = :a AND version = 4;
SELECT is(booking.announce_changed_appointments(now() - interval '1 hour'), 1::bigint,
          'and the current version of an appointment that has none');

SELECT throws_ok($$SELECT * FROM booking.relay_change_feed(0)$$, 'BK008', pg_temp.msg('BK008'),
                 'a relay batch of no changes is refused');

-- Purging old events.
UPDATE booking.appointment_events SET created_at = now() - interval '8 days'
 WHERE barber_id = 9001 AND id > :before_9001;
SELECT is(booking.purge_old_appointment_events(), 3::bigint,
          'the default purge (7 days) deletes the three events made 8 days old');
SELECT throws_ok($$SELECT booking.purge_old_appointment_events(interval '59 minutes')$$, 'BK008', pg_temp.msg('BK008'),
                 'less than an hour is refused');
SELECT throws_ok($$SELECT booking.purge_old_appointment_events(NULL)$$, 'BK008', pg_temp.msg('BK008'),
                 'NULL is refused');

SELECT * FROM finish();
ROLLBACK;
