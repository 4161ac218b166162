-- What the attack on the service found in the engine (issue 11): a token's role did not
-- bound what its user could do, and naming a barber bypassed booking.barber_services.
--   * booking.acting_role caps the staff rights booking.staff gives a user;
--   * authenticate_token() refuses a staff token whose user no longer holds that role;
--   * the "offers" rule (booking.offers) holds for a named barber, a move and the slot search.
BEGIN;
SELECT plan(28);
\ir fixtures.psql

-- User 2002 is an admin (fixtures); user 1001 a client. An appointment of 1001, one of 1002.
SELECT id AS mine FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT id AS theirs FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-03 10:00Z', p_notes => 'private') \gset

-- 1. Acting as a client, an admin is a client.
SET LOCAL booking.acting_role = 'client';
SELECT is_empty(format('SELECT * FROM booking.get_appointment(%s, 2002)', :theirs),
                'an admin acting as a client does not see another user''s appointment');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 2002, '{"notes": "x"}')$$, :theirs),
                 'BK011', pg_temp.msg('BK011'), 'nor change it (it does not exist for them)');
SELECT throws_ok(format($$SELECT * FROM booking.cancel_appointment(%s, 2002)$$, :theirs),
                 'BK011', pg_temp.msg('BK011'), 'nor cancel it');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"status": "confirmed"}')$$, :mine),
                 'BK012', pg_temp.msg('BK012'), 'a client still may not confirm its own appointment');
SELECT isnt_empty(format('SELECT * FROM booking.get_appointment(%s, 1001)', :mine), 'a client sees its own');
-- Acting as a barber, the barber of 9001 (user 2001) is a barber; an admin is not an admin.
SET LOCAL booking.acting_role = 'barber';
SELECT isnt_empty(format('SELECT * FROM booking.get_appointment(%s, 2001)', :mine),
                  'the barber of 9001, acting as a barber, sees its barber''s appointment');
SELECT is_empty(format('SELECT * FROM booking.get_appointment(%s, 2002)', :theirs),
                'an admin acting as a barber has no admin rights');
SELECT results_eq(format($$SELECT status FROM booking.update_appointment(%s, 2001, '{"status": "confirmed"}')$$, :mine),
                  $$VALUES ('confirmed'::text)$$, 'the barber confirms its barber''s appointment');
-- Acting as an admin, or unset (a trusted internal caller): what booking.staff says.
SET LOCAL booking.acting_role = 'admin';
SELECT isnt_empty(format('SELECT * FROM booking.get_appointment(%s, 2002)', :theirs), 'acting as an admin, an admin sees all');
SELECT is_empty(format('SELECT * FROM booking.get_appointment(%s, 1001)', :theirs),
                'acting as an admin, a client is still a client');
RESET booking.acting_role;
SELECT isnt_empty(format('SELECT * FROM booking.get_appointment(%s, 2002)', :theirs),
                  'unset, the staff row decides (internal callers, as before)');
SET LOCAL booking.acting_role = 'root';
SELECT throws_ok(format('SELECT * FROM booking.get_appointment(%s, 2002)', :theirs),
                 'BK008', pg_temp.msg('BK008'), 'an unknown acting role is BK008, not "no rights" or "all rights"');
RESET booking.acting_role;

-- 2. A staff token lives only while its user holds the role.
SELECT booking.create_api_token(sha256('admin-token'), 2003, 'admin') AS t1 \gset
SELECT booking.create_api_token(sha256('client-token'), 2003, 'client') AS t2 \gset
SELECT booking.create_api_token(sha256('barber-token'), 2004, 'barber', 9003) AS t3 \gset
SELECT results_eq($$SELECT role FROM booking.authenticate_token(sha256('admin-token'))$$, $$VALUES ('admin'::text)$$,
                  'an admin token authenticates as admin');
SELECT results_eq($$SELECT role FROM booking.authenticate_token(sha256('client-token'))$$, $$VALUES ('client'::text)$$,
                  'a client token of the same user (a staff user may hold one) authenticates as client');
DELETE FROM booking.staff WHERE user_id = 2003;
SELECT is_empty($$SELECT * FROM booking.authenticate_token(sha256('admin-token'))$$,
                'once the user is no longer an admin, the admin token is refused at once');
SELECT results_eq($$SELECT role FROM booking.authenticate_token(sha256('client-token'))$$, $$VALUES ('client'::text)$$,
                  'and the client token still works, as a client');
UPDATE booking.staff SET barber_id = 9001 WHERE user_id = 2004;
SELECT is_empty($$SELECT * FROM booking.authenticate_token(sha256('barber-token'))$$,
                'a barber token for barber 9003 is refused once its user is the barber of 9001');
SELECT booking.revoke_api_token(sha256('client-token')) AS revoked \gset
SELECT is_empty($$SELECT * FROM booking.authenticate_token(sha256('client-token'))$$, 'a revoked token is refused');

-- 2b. What the service's token cache relies on: the answer says until when it holds, and
--     every change that can withdraw it notifies booking_tokens (once per statement).
SELECT booking.create_api_token(sha256('expiring-token'), 1001, 'client', NULL, now() + interval '1 hour');
SELECT is((SELECT valid_until FROM booking.authenticate_token(sha256('expiring-token'))), now() + interval '1 hour',
          'authenticate_token says until when its answer holds: the expiry');
SELECT triggers_are('booking', 'api_tokens', ARRAY['api_tokens_announce_change'], 'api_tokens announces its changes');
SELECT triggers_are('booking', 'staff', ARRAY['staff_announce_change'], 'staff announces its changes');
SELECT is((SELECT array_agg(DISTINCT evt ORDER BY evt)::text[] FROM (
               SELECT CASE WHEN (t.tgtype::int & 4) > 0 THEN 'INSERT' END AS evt FROM pg_trigger t
                WHERE t.tgname IN ('api_tokens_announce_change', 'staff_announce_change')
               UNION ALL SELECT CASE WHEN (t.tgtype::int & 8) > 0 THEN 'DELETE' END FROM pg_trigger t
                WHERE t.tgname IN ('api_tokens_announce_change', 'staff_announce_change')
               UNION ALL SELECT CASE WHEN (t.tgtype::int & 16) > 0 THEN 'UPDATE' END FROM pg_trigger t
                WHERE t.tgname IN ('api_tokens_announce_change', 'staff_announce_change')
               UNION ALL SELECT CASE WHEN (t.tgtype::int & 32) > 0 THEN 'TRUNCATE' END FROM pg_trigger t
                WHERE t.tgname IN ('api_tokens_announce_change', 'staff_announce_change')) e WHERE evt IS NOT NULL),
          ARRAY['DELETE', 'TRUNCATE', 'UPDATE'],
          'on UPDATE, DELETE and TRUNCATE (an INSERT withdraws nothing)');
SELECT ok((SELECT bool_and(t.tgenabled = 'O' AND (t.tgtype::int & 1) = 0) FROM pg_trigger t
            WHERE t.tgname IN ('api_tokens_announce_change', 'staff_announce_change')),
          'enabled, once per statement');

-- 3. The offers rule, for a named barber too.
INSERT INTO booking.barber_services (barber_id, service_id)
SELECT 9005, id FROM booking.services WHERE name = 'TAP Shave';
SELECT throws_ok($$SELECT * FROM booking.book_appointment(9005, 1001, 'TAP Haircut', '2030-06-04 10:00Z')$$,
                 'BK013', pg_temp.msg('BK013'), 'a barber limited to TAP Shave is not booked for a TAP Haircut');
SELECT lives_ok($$SELECT * FROM booking.book_appointment(9005, 1001, 'TAP Shave', '2030-06-04 10:00Z')$$,
                'but for a TAP Shave');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 9005}')$$, :mine),
                 'BK013', pg_temp.msg('BK013'), 'a TAP Haircut is not moved to that barber');
SELECT throws_ok($$SELECT * FROM booking.free_slots(9005, '2030-06-05', 'TAP Haircut')$$,
                 'BK013', pg_temp.msg('BK013'), 'that barber''s availability for a TAP Haircut is BK013, not a list of slots');
SELECT ok(NOT (9005 = ANY (booking.candidate_barbers(1, 'TAP Haircut'))) AND 9005 = ANY (booking.candidate_barbers(1, 'TAP Shave')),
          '"any barber" uses the same rule');

SELECT * FROM finish();
ROLLBACK;
