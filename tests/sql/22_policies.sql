-- Booking policies (issue 15, part 3): per shop, overridable per service; minimum notice,
-- maximum advance, cancel and reschedule cut-offs. Enforced for clients by the functions
-- (booking_app and internal callers alike), with the clock read once per call (now(), the
-- transaction's start); staff may override, and changed_by records who did; availability
-- offers only the starts a client may book.
BEGIN;
SELECT plan(19);
\ir fixtures.psql

-- 1. Defaults change nothing.
SELECT is((SELECT row(min_notice_minutes, max_advance_days, cancel_cutoff_minutes, reschedule_cutoff_minutes)::text
             FROM booking.shop_policy(1)), row(0, NULL::int, 0, 0)::text, 'a shop''s policy is open by default');
SELECT lives_ok($$SELECT booking.book_appointment(9001, 1001, 'TAP Haircut', now() + interval '1 minute')$$,
                'a booking a minute ahead is fine without a policy');

-- 2. The shop's window.
SELECT lives_ok($$SELECT booking.set_shop_policy(1, 120, 30, 1440, 720)$$, 'the shop sets a policy');
SELECT throws_ok($$SELECT booking.book_appointment(9001, 1001, 'TAP Haircut', now() + interval '60 minutes')$$,
                 'BK023', pg_temp.msg('BK023'), 'a client may not book with less notice');
SELECT throws_ok($$SELECT booking.book_appointment(9001, 1001, 'TAP Haircut', now() + interval '31 days')$$,
                 'BK023', pg_temp.msg('BK023'), 'nor further ahead than the maximum');
SELECT lives_ok($$SELECT booking.book_appointment(9001, 1001, 'TAP Haircut', now() + interval '3 hours')$$,
                'inside the window is fine');
SELECT lives_ok($$SELECT booking.book_appointment(9001, 2001, 'TAP Haircut', now() + interval '61 minutes')$$,
                'the barber (staff) may book with less notice');
SELECT is((SELECT count(*)::int FROM booking.free_slots(9002, (now() + interval '40 days')::date, 'TAP Haircut')), 0,
          'availability offers nothing past the maximum advance');
SELECT is((SELECT count(*)::int FROM booking.free_slots(9002, now()::date, 'TAP Haircut') s
            WHERE s.start_time < now() + interval '120 minutes'), 0, 'no start inside the notice is offered');

-- 3. A service may override the shop.
SELECT is((SELECT min_notice_minutes FROM booking.set_service_policy(1, 'TAP Shave', 0, NULL, NULL, NULL)), 0,
          'the shave needs no notice');
SELECT lives_ok($$SELECT booking.book_appointment(9002, 1001, 'TAP Shave', now() + interval '5 minutes')$$,
                'so a client books a shave five minutes ahead');
SELECT is((SELECT max_advance_days FROM booking.effective_policy(1, 'TAP Shave')), 30, 'its other values are the shop''s');

-- 4. Cut-offs for clients; staff override, on record.
SELECT id AS soon FROM booking.book_appointment(9002, 1001, 'TAP Haircut', now() + interval '3 hours', p_notes => 'soon') \gset
SELECT throws_ok(format($$SELECT booking.cancel_appointment(%s, 1001)$$, :soon),
                 'BK023', pg_temp.msg('BK023'), 'a client may not cancel within the cut-off (24 h)');
SELECT throws_ok(format($$SELECT booking.update_appointment(%s, 1001, jsonb_build_object('start_time', now() + interval '5 hours'))$$, :soon),
                 'BK023', pg_temp.msg('BK023'), 'nor move it within the reschedule cut-off (12 h)');
SELECT lives_ok(format($$SELECT booking.update_appointment(%s, 1001, '{"notes": "later"}')$$, :soon),
                'a note is no reschedule');
SELECT is((SELECT status FROM booking.cancel_appointment(:soon, 2002)), 'cancelled', 'an admin may cancel it');
SELECT is((SELECT changed_by FROM booking.appointments WHERE id = :soon), 2002::bigint, 'and is on record as who did');
SELECT id AS later FROM booking.book_appointment(9001, 1001, 'TAP Haircut', now() + interval '3 days') \gset
SELECT is((SELECT status FROM booking.cancel_appointment(:later, 1001)), 'cancelled',
          'before the cut-off the client may cancel');
SELECT throws_ok($$SELECT booking.set_shop_policy(1, -1, 30, 0, 0)$$, 'BK008', pg_temp.msg('BK008'),
                 'a negative notice is refused');

SELECT * FROM finish();
ROLLBACK;
