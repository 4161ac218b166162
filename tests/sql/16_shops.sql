-- Shops (issue 14, contract section 6): every barber, service and appointment belongs to
-- one shop; service names are unique per shop; "any barber" is any barber of one shop; an
-- admin of shop A can do nothing in shop B; the shop operations check who acts; callers
-- that name no shop get the default shop (1), as before.
BEGIN;
SELECT plan(42);
\ir fixtures.psql

-- 1. The default shop, and what existed before shops.
SELECT is((SELECT name FROM booking.shops WHERE id = 1), 'Default shop', 'shop 1 is the default shop');
SELECT is((SELECT array_agg(DISTINCT shop_id) FROM booking.barbers WHERE id BETWEEN 9001 AND 9005), ARRAY[1::bigint],
          'barbers made without a shop are the default shop''s');

-- 2. A second shop, its barbers and services, made through the functions (a trusted caller:
--    no actor), with user 3001 as its admin.
SELECT id AS s2 FROM booking.create_shop('TAP Second', 'Europe/Paris', 3001) \gset
SELECT is((SELECT row(role, shop_id)::text FROM booking.staff WHERE user_id = 3001), row('admin', :s2)::text,
          'create_shop makes p_admin_user_id the shop''s admin');
SELECT id AS b2 FROM booking.create_barber(:s2, 'TAP Second Barber') \gset
SELECT is((SELECT row(shop_id, timezone)::text FROM booking.barbers WHERE id = :b2), row(:s2, 'Europe/Paris')::text,
          'a barber made without a time zone takes the shop''s');
SELECT id AS b3 FROM booking.create_barber(:s2, 'TAP Second Other', 'Europe/Paris') \gset
SELECT lives_ok(format($$SELECT booking.create_service(%s, 'TAP Haircut', 45, 3000)$$, :s2),
                'a second shop may have a service of the same name as the first''s');
SELECT throws_ok(format($$SELECT booking.create_service(%s, 'TAP Haircut', 30)$$, :s2),
                 'BK008', pg_temp.msg('BK008'), 'but not twice in one shop');
SELECT throws_ok(format($$SELECT booking.create_service(%s, 'TAP Beard', 0)$$, :s2),
                 'BK008', pg_temp.msg('BK008'), 'a service of 0 minutes is refused');
SELECT throws_ok($$SELECT booking.create_barber(8999999, 'Nobody''s')$$,
                 'BK014', pg_temp.msg('BK014'), 'an unknown shop is BK014');
SELECT throws_ok($$SELECT booking.create_shop('TAP Nowhere', 'Mars/Olympus')$$,
                 'BK008', pg_temp.msg('BK008'), 'a shop''s time zone is an IANA name');
SELECT throws_ok($$SELECT booking.create_shop('   ')$$, 'BK008', pg_temp.msg('BK008'), 'a shop has a name');
SELECT throws_ok($$SELECT booking.create_shop('TAP Third', 'UTC', 3001)$$,
                 'BK008', pg_temp.msg('BK008'), 'a user already staff elsewhere is not made admin silently');

-- 3. Booking in a shop.
SELECT is((SELECT row(shop_id, duration_minutes)::text
             FROM booking.book_appointment(:b2, 1001, 'TAP Haircut', '2030-06-03 10:00Z')),
          row(:s2, 45)::text, 'a booking is its barber''s shop''s, with that shop''s service');
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 1001, 'TAP Haircut', '2030-06-03 12:00Z',
                                                          p_shop_id => :s2)),
          :b3::bigint, '"any barber" of shop 2 picks a barber of shop 2: the fairest (b2 has a booking that day)');
SELECT is((SELECT barber_id FROM booking.book_appointment(NULL, 1001, 'TAP Haircut', '2030-06-03 12:00Z',
                                                          p_shop_id => :s2)),
          :b2::bigint, 'and the next one the other barber of shop 2');
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(NULL, 1001, 'TAP Haircut', '2030-06-03 12:00Z',
                                                                 p_shop_id => %s)$$, :s2),
                 '23P01', pg_temp.msg('23P01'), 'then shop 2 has nobody free at 12:00, whatever shop 1 has');
SELECT ok((SELECT barber_id FROM booking.book_appointment(NULL, 1001, 'TAP Haircut', '2030-06-03 12:00Z'))
              BETWEEN 9001 AND 9005,
          '"any barber" without a shop is any barber of the default shop, as before');
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(%s, 1001, 'TAP Shave', '2030-06-03 14:00Z')$$, :b2),
                 'BK004', pg_temp.msg('BK004'), 'a service of another shop is not this barber''s (BK004)');
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 14:00Z',
                                                                 p_shop_id => %s)$$, :s2),
                 'BK003', pg_temp.msg('BK003'), 'a barber named with another shop is BK003');
SELECT throws_ok($$SELECT * FROM booking.book_appointment(NULL, 1001, 'TAP Haircut', '2030-06-03 14:00Z',
                                                          p_shop_id => 8999999)$$,
                 'BK004', pg_temp.msg('BK004'), 'an unknown shop has no such service (BK004)');
SELECT is(booking.local_start(NULL, '2030-06-03', '10:00', :s2), '2030-06-03 08:00Z'::timestamptz,
          'a local time for any barber of shop 2 is read in its barbers'' zone (Paris)');
SELECT ok(EXISTS (SELECT 1 FROM booking.free_slots(NULL, '2030-06-04', 'TAP Haircut', p_shop_id => :s2)
                   WHERE end_time - start_time = interval '45 minutes'),
          'free_slots of any barber of shop 2 uses shop 2''s service');
SELECT throws_ok(format($$SELECT * FROM booking.free_slots(9001, '2030-06-04', 'TAP Haircut', p_shop_id => %s)$$, :s2),
                 'BK003', pg_temp.msg('BK003'), 'free_slots of a barber named with another shop is BK003');

-- 4. The shop column cannot lie.
SELECT lives_ok(format($$INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                         VALUES (%s, 1002, 'TAP Haircut', '2030-06-05 10:00Z', 30)$$, :b2),
                'a raw INSERT that names no shop...');
SELECT is((SELECT shop_id FROM booking.appointments WHERE barber_id = :b2 AND start_time = '2030-06-05 10:00Z'),
          :s2::bigint, '...gets its barber''s (appointments_fill_shop)');
SELECT throws_ok(format($$INSERT INTO booking.appointments (barber_id, shop_id, user_id, service_name, start_time, duration_minutes)
                         VALUES (%s, 1, 1002, 'TAP Haircut', '2030-06-05 12:00Z', 30)$$, :b2),
                 '23503', NULL, 'a raw INSERT under another shop than its barber''s is refused (23503)');
SELECT id AS a1 FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-05 10:00Z') \gset
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1002, '{"barber_id": %s}')$$, :a1, :b2),
                 'BK003', pg_temp.msg('BK003'), 'an appointment does not move to a barber of another shop');

-- 5. Who may act where: an admin of shop 2 is nobody in shop 1.
SELECT is(booking.actor_role(3001, 1002, 9002), NULL, 'shop 2''s admin is a stranger to a shop 1 appointment');
SELECT is(booking.actor_role(3001, 1001, :b2), 'admin', 'and its admin in shop 2');
SELECT is(booking.actor_role(2002, 1001, :b2), 'admin', 'an admin of every shop (fixtures: 2002) is admin in shop 2 too');
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 3001, '{"status": "confirmed"}')$$, :a1),
                 'BK011', pg_temp.msg('BK011'), 'shop 2''s admin cannot confirm a shop 1 appointment (not visible)');
SELECT throws_ok($$SELECT booking.create_barber(1, 'TAP Intruder', NULL, 3001)$$,
                 'BK012', pg_temp.msg('BK012'), 'nor add a barber to shop 1');
SELECT lives_ok(format($$SELECT booking.create_barber(%s, 'TAP Hired', NULL, 3001)$$, :s2),
                'but may add one to shop 2');
SELECT throws_ok(format($$SELECT booking.create_service(%s, 'TAP Trim', 20, 0, 1001)$$, :s2),
                 'BK012', pg_temp.msg('BK012'), 'a client is no shop''s admin');
SET LOCAL booking.acting_role = 'client';
SELECT throws_ok(format($$SELECT booking.create_barber(%s, 'TAP As Client', NULL, 3001)$$, :s2),
                 'BK012', pg_temp.msg('BK012'), 'an admin acting with a client token is not an admin');
RESET booking.acting_role;

-- 6. Working hours and time off.
SELECT is((SELECT count(*)::int FROM booking.set_working_hours(:b2,
              '[{"weekday": 1, "opens_at": "09:00", "closes_at": "12:00"},
                {"weekday": 1, "opens_at": "13:00", "closes_at": "17:00"}]', 3001,
              p_force => true)), 2,  -- force: it strands the Wednesday appointments above (19_staff_api.sql)
          'set_working_hours replaces the hours with split shifts');
SELECT throws_ok(format($$SELECT * FROM booking.set_working_hours(%s, '[{"weekday": 8, "opens_at": "09:00", "closes_at": "12:00"}]')$$, :b2),
                 'BK008', pg_temp.msg('BK008'), 'weekday 8 is refused');
SELECT throws_ok(format($$SELECT * FROM booking.set_working_hours(%s, '[{"weekday": 1, "opens_at": "24:00", "closes_at": "12:00"}]')$$, :b2),
                 'BK008', pg_temp.msg('BK008'), 'opens_at 24:00 is refused');
SELECT throws_ok(format($$SELECT * FROM booking.set_working_hours(%s, '[{"weekday": 1, "opens_at": "09:00", "closes_at": "12:00", "x": 1}]')$$, :b2),
                 'BK008', pg_temp.msg('BK008'), 'an unknown key is refused');
SELECT throws_ok(format($$SELECT booking.add_time_off(%s, '2030-06-10 10:00Z', '2030-06-10 10:00Z')$$, :b2),
                 'BK008', pg_temp.msg('BK008'), 'time off that ends when it starts is refused');
SELECT throws_ok(format($$SELECT booking.add_time_off(%s, '2030-06-10 10:00Z', 'infinity')$$, :b2),
                 'BK008', pg_temp.msg('BK008'), 'time off without an end is refused');
SELECT is((SELECT reason FROM booking.add_time_off(:b2, '2030-06-10 08:00Z', '2030-06-10 12:00Z', 'dentist', 3001)),
          'dentist', 'add_time_off by the shop''s admin');
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(%s, 1001, 'TAP Haircut', '2030-06-10 09:00Z')$$, :b2),
                 'BK006', pg_temp.msg('BK006'), 'and a booking during it is refused (BK006)');

SELECT * FROM finish();
ROLLBACK;
