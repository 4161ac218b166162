-- Webhooks (issue 16): a booking's transaction queues nothing; what the relay records
-- becomes one delivery per change per subscription that wants it (not for holds, one per
-- barber move, none for a disabled subscription); the claim keeps one appointment's changes
-- in order and skips what another claim holds; a report retries with backoff, and past the
-- horizon marks the delivery dead and disables the subscription with its reason; enabling
-- replays; a rotation signs with both secrets. The relay is played here by inserting the
-- events booking.appointment_change_events makes (the one rule both feed sources use).
BEGIN;
SELECT plan(27);
\ir fixtures.psql

CREATE FUNCTION pg_temp.relay(p_id bigint, p_old booking.appointments) RETURNS void LANGUAGE sql AS $$
    INSERT INTO booking.appointment_events (barber_id, appointment_id, version, kind, payload)
    SELECT e.barber_id, e.appointment_id, e.version, e.kind, e.payload
      FROM booking.appointments a, booking.appointment_change_events(p_old, a) AS e WHERE a.id = p_id
    ON CONFLICT (appointment_id, version, barber_id) DO NOTHING
$$;
CREATE FUNCTION pg_temp.deliveries(p_hook bigint) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(event_type || ':' || message_id ORDER BY appointment_id, version, message_id), '{}')
      FROM booking.webhook_deliveries WHERE webhook_id = p_hook
$$;

SELECT id AS all_id, secret AS first_secret FROM booking.create_webhook(1, 'https://example.com/all') \gset
SELECT id AS cancels FROM booking.create_webhook(1, 'https://example.com/c', ARRAY['appointment.cancelled']) \gset
SELECT id AS off FROM booking.create_webhook(1, 'https://example.com/off') \gset
SELECT ok(:'first_secret' ~ '^whsec_[A-Za-z0-9+/]{43}=$', 'a secret is whsec_ and 32 random bytes in base64');
SELECT ok((SELECT disabled_at FROM booking.disable_webhook(1, :off)) IS NOT NULL, 'a subscription is disabled');

-- 1. The booking's own transaction writes no delivery; the relay's record does.
SELECT id AS a1 FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT is((SELECT count(*)::int FROM booking.webhook_deliveries WHERE appointment_id = :a1), 0, 'booking wrote no delivery');
SELECT pg_temp.relay(:a1, NULL);
SELECT is(pg_temp.deliveries(:all_id), ARRAY['appointment.booked:evt_' || :a1 || '_1'],
          'the relay''s event queues appointment.booked for the subscription of every type');
SELECT is(pg_temp.deliveries(:cancels), '{}'::text[], 'not for one of cancellations only');
SELECT is(pg_temp.deliveries(:off), '{}'::text[], 'nor for a disabled one');
SELECT is((SELECT data->>'service_name' FROM booking.webhook_deliveries WHERE webhook_id = :all_id AND message_id = 'evt_' || :a1 || '_1'),
          'TAP Haircut', 'the message carries the appointment');
DELETE FROM booking.appointment_events WHERE appointment_id = :a1;  -- a catch-up announcing it again
SELECT pg_temp.relay(:a1, NULL);
SELECT is(cardinality(pg_temp.deliveries(:all_id)), 1, 'a change announced twice is queued once');

-- 2. A move between barbers is one message; a cancellation reaches both subscriptions.
SELECT a AS before_move FROM booking.appointments a WHERE id = :a1 \gset
\o /dev/null
SELECT booking.update_appointment(:a1, 1001, '{"barber_id": 9002}');
\o
SELECT pg_temp.relay(:a1, :'before_move');
SELECT is((SELECT count(*)::int FROM booking.appointment_events WHERE appointment_id = :a1 AND version = 2), 2,
          'the feed has one event per barber concerned by the move');
SELECT is(pg_temp.deliveries(:all_id), ARRAY['appointment.booked:evt_' || :a1 || '_1', 'appointment.changed:evt_' || :a1 || '_2'],
          'and webhooks one message for it');
SELECT a AS before_cancel FROM booking.appointments a WHERE id = :a1 \gset
\o /dev/null
SELECT booking.cancel_appointment(:a1, 1001);
\o
SELECT pg_temp.relay(:a1, :'before_cancel');
SELECT is(pg_temp.deliveries(:cancels), ARRAY['appointment.cancelled:evt_' || :a1 || '_3'], 'the cancellation reaches both');

-- 3. Holds are not announced; a confirmed hold is booked.
SELECT id AS h1 FROM booking.hold_slot(9001, 1001, 'TAP Haircut', '2030-06-03 12:00Z') \gset
SELECT pg_temp.relay(:h1, NULL);
SELECT is((SELECT count(*)::int FROM booking.webhook_deliveries WHERE appointment_id = :h1), 0, 'a hold queues nothing');
SELECT a AS held FROM booking.appointments a WHERE id = :h1 \gset
\o /dev/null
SELECT booking.confirm_hold(:h1, 1001);
\o
SELECT pg_temp.relay(:h1, :'held');
SELECT is((SELECT event_type FROM booking.webhook_deliveries WHERE webhook_id = :all_id AND appointment_id = :h1),
          'appointment.booked', 'its confirmation is appointment.booked');

-- 4. The claim: one appointment's changes in order; held rows skipped; a lease; stale reports.
SELECT is(ARRAY(SELECT message_id FROM booking.claim_webhook_deliveries(100, 30) WHERE webhook_id = :all_id ORDER BY 1),
          ARRAY['evt_' || :a1 || '_1', 'evt_' || :h1 || '_2'],
          'the first change of each appointment is claimed; the later ones wait for it');
SELECT is((SELECT count(*)::int FROM booking.claim_webhook_deliveries(100, 30) WHERE webhook_id = :all_id), 0,
          'claimed deliveries are leased: not claimed again');
SELECT is(booking.finish_webhook_delivery(:all_id, 'evt_' || :a1 || '_1', 1, 204, NULL), 'delivered', 'a 2xx is delivered');
SELECT is(booking.finish_webhook_delivery(:all_id, 'evt_' || :a1 || '_1', 1, 204, NULL), 'stale', 'a second report is stale');
SELECT is(ARRAY(SELECT message_id FROM booking.claim_webhook_deliveries(100, 30) WHERE webhook_id = :all_id),
          ARRAY['evt_' || :a1 || '_2'], 'then the next change of that appointment is due');

-- 5. Failures: backoff with jitter, then dead past the horizon, and the subscription disabled.
SELECT is(booking.finish_webhook_delivery(:all_id, 'evt_' || :a1 || '_2', 1, 503, NULL, 10, 3600, 86400), 'retry',
          'a 503 is retried');
SELECT ok((SELECT next_attempt_at - now() BETWEEN interval '5 s' AND interval '10 s' FROM booking.webhook_deliveries
            WHERE message_id = 'evt_' || :a1 || '_2' AND webhook_id = :all_id),
          'the first retry waits base x [0.5, 1)');
UPDATE booking.webhook_deliveries SET next_attempt_at = now(), first_attempt_at = now() - interval '2 days'
 WHERE webhook_id = :all_id AND message_id = 'evt_' || :a1 || '_2';
SELECT is((SELECT attempt FROM booking.claim_webhook_deliveries(100, 30) WHERE webhook_id = :all_id AND message_id = 'evt_' || :a1 || '_2'), 2,
          'due again: attempt 2');
SELECT is(booking.finish_webhook_delivery(:all_id, 'evt_' || :a1 || '_2', 2, NULL, 'connection refused', 10, 3600, 86400),
          'dead', 'failing past the horizon (1 day here) is dead');
SELECT ok((SELECT disabled_reason ~ ('evt_' || :a1 || '_2.*connection refused') FROM booking.webhook_subscriptions WHERE id = :all_id),
          'and the subscription is disabled, saying which message and why');

-- 6. Enabling replays: the dead delivery is due again, the missed change is queued.
SELECT id AS a2 FROM booking.book_appointment(9001, 1002, 'TAP Haircut', '2030-06-04 10:00Z') \gset
SELECT pg_temp.relay(:a2, NULL);
SELECT is((SELECT count(*)::int FROM booking.webhook_deliveries WHERE webhook_id = :all_id AND appointment_id = :a2), 0,
          'nothing is queued while disabled');
SELECT is((SELECT row(disabled_at, dead, pending)::text FROM booking.enable_webhook(1, :all_id)),
          row(NULL::timestamptz, 0, 4)::text,
          'enable: no longer disabled, the dead one pending again, the missed one queued');

-- 7. A rotation: both secrets sign for 24 hours.
SELECT ok((SELECT previous_secret_until BETWEEN now() + interval '23 hours 59 minutes' AND now() + interval '1 day'
             FROM booking.rotate_webhook_secret(1, :cancels)), 'a rotation keeps the old secret for 24 hours');
SELECT booking.send_test_webhook(1, :cancels) AS test_message \gset
SELECT is((SELECT cardinality(secrets) FROM booking.claim_webhook_deliveries(100, 30) c
            WHERE c.webhook_id = :cancels AND c.message_id = :'test_message'), 2,
          'and the claim gives both secrets');

SELECT * FROM finish();
ROLLBACK;
