-- Schedules (issue 15, part 2): booking.list_appointments shows a user exactly the
-- appointments booking.get_appointment would show them (booking.actor_role), for every
-- staff role and every booking.acting_role cap; its filters (barber, [from, to), status);
-- keyset pages that cover the list once, in (start_time, id) order; its bounds (limit 1 to
-- 200, a known status, a window in order, a whole cursor).
BEGIN;
SELECT plan(61);
\ir fixtures.psql

-- A second shop (admin 3001) with a barber; 3002 a barber of that barber.
SELECT id AS s2 FROM booking.create_shop('TAP Schedules', 'UTC', 3001) \gset
SELECT id AS b2 FROM booking.create_barber(:s2, 'TAP Schedules Barber') \gset
INSERT INTO booking.staff (user_id, role, barber_id) VALUES (3002, 'barber', :b2);
SELECT id AS service2 FROM booking.create_service(:s2, 'TAP Haircut', 30) \gset

-- Appointments: clients 1001 and 1002 with both shops' barbers; the barber 2001 and the
-- shop admin 3001 book as clients too (each with someone else's barber); one cancelled,
-- one completed.
CREATE TEMP TABLE made (id bigint, label text);
INSERT INTO made
SELECT (booking.book_appointment(v.barber, v.client, 'TAP Haircut', v.start)).id, v.label
FROM (VALUES
    (9001::bigint, 1001::bigint, timestamptz '2030-06-03 09:00Z', 'c1 at 9001 Mon 09'),
    (9001, 1002, '2030-06-03 10:00Z', 'c2 at 9001 Mon 10'),
    (9002, 1001, '2030-06-03 10:00Z', 'c1 at 9002 Mon 10'),
    (9002, 2001, '2030-06-04 09:00Z', 'barber 2001 at 9002 as a client'),
    (9001, 3001, '2030-06-05 09:00Z', 'shop 2 admin at 9001 as a client'),
    (:b2, 1001, '2030-06-03 10:00Z', 'c1 in shop 2 Mon 10'),
    (:b2, 1002, '2030-06-04 10:00Z', 'c2 in shop 2 Tue 10'),
    (9001, 1001, '2030-06-10 09:00Z', 'c1 at 9001 next Mon'),
    (9001, 1002, '2030-06-10 10:00Z', 'c2 at 9001 next Mon, to be cancelled'),
    (9002, 1002, '2030-06-11 09:00Z', 'c2 at 9002 next Tue, to be completed')) AS v(barber, client, start, label);
SELECT id AS cancelled FROM made WHERE label LIKE '%cancelled' \gset
SELECT id AS completed FROM made WHERE label LIKE '%completed' \gset
SELECT version AS cancelled_version FROM booking.cancel_appointment(:cancelled, 1002) \gset
UPDATE booking.appointments SET status = 'completed' WHERE id = :completed;
-- Two appointments at the same instant (a cancelled one and its replacement): the key's id
-- orders them.
INSERT INTO made SELECT (booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-10 10:00Z')).id,
                        'c1 at 9001 next Mon 10, where the cancelled one was';

-- pg_temp.listed(user, ...) -> every id the user's list shows, through pages of p_page
-- rows (each page starts after the previous page's last row).
CREATE FUNCTION pg_temp.listed(p_user bigint, p_page int DEFAULT 200, p_barber bigint DEFAULT NULL,
                               p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL,
                               p_status text DEFAULT NULL)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[] := '{}';
    v_after_start timestamptz;
    v_after_id bigint;
    v_n int;
    r record;
BEGIN
    LOOP
        v_n := 0;
        FOR r IN SELECT * FROM booking.list_appointments(p_user, p_barber, p_from, p_to, p_status,
                                                         v_after_start, v_after_id, p_page) LOOP
            v_ids := v_ids || r.id;
            v_after_start := r.start_time;
            v_after_id := r.id;
            v_n := v_n + 1;
        END LOOP;
        EXIT WHEN v_n < p_page;
    END LOOP;
    RETURN v_ids;
END
$$;
-- What get_appointment shows the user, in the list's order.
CREATE FUNCTION pg_temp.visible(p_user bigint) RETURNS bigint[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(a.id ORDER BY a.start_time, a.id), '{}')
    FROM booking.appointments a
    WHERE EXISTS (SELECT 1 FROM booking.get_appointment(a.id, p_user))
$$;

-- 1. Visibility: for every user and every acting role, the list is what get_appointment
--    shows, in order, whether read in one page or in pages of 1 and 3.
CREATE FUNCTION pg_temp.visibility_checks() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    u bigint;
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['', 'client', 'barber', 'admin'] LOOP
        PERFORM set_config('booking.acting_role', r, true);
        FOREACH u IN ARRAY ARRAY[1001, 1002, 2001, 2002, 3001, 3002, 4242]::bigint[] LOOP
            RETURN NEXT is(pg_temp.listed(u), pg_temp.visible(u),
                           format('user %s acting as %s lists what get_appointment shows', u, coalesce(nullif(r, ''), '(unset)')));
        END LOOP;
    END LOOP;
    PERFORM set_config('booking.acting_role', '', true);
END
$$;
SELECT * FROM pg_temp.visibility_checks();   -- 28 tests

-- 2. What that means, spelled out.
SELECT is(cardinality(pg_temp.listed(1001)), 5, 'a client sees its own 5 appointments, in both shops');
SELECT is(pg_temp.listed(2002), (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments),
          'an admin of every shop sees every appointment');
SELECT is(pg_temp.listed(3001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments
            WHERE shop_id = :s2 OR user_id = 3001),
          'an admin of shop 2 sees shop 2''s, and its own booking in shop 1, nothing else of shop 1');
SELECT is(pg_temp.listed(2001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments
            WHERE barber_id = 9001 OR user_id = 2001),
          'a barber sees its barber''s, and its own bookings with other barbers');
SET LOCAL booking.acting_role = 'client';
SELECT is(pg_temp.listed(2002), '{}'::bigint[], 'the admin acting as a client sees only its own bookings (none)');
SELECT is(pg_temp.listed(2001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments WHERE user_id = 2001),
          'the barber acting as a client sees only its own booking');
SET LOCAL booking.acting_role = 'barber';
SELECT is(pg_temp.listed(3001, p_barber => :b2), '{}'::bigint[],
          'the shop admin acting as a barber sees nothing of a barber it is not');
SET LOCAL booking.acting_role = '';

-- 3. Filters.
SELECT is(pg_temp.listed(2002, p_barber => 9001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments WHERE barber_id = 9001),
          'barber filter: the admin sees barber 9001''s appointments');
SELECT is(pg_temp.listed(1001, p_barber => 9001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments
            WHERE barber_id = 9001 AND user_id = 1001),
          'barber filter for a client: its own with that barber only');
SELECT is(pg_temp.listed(3001, p_barber => 9001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments
            WHERE barber_id = 9001 AND user_id = 3001),
          'barber of another shop for a shop admin: its own bookings there only');
SELECT is(pg_temp.listed(2001, p_from => '2030-06-03 00:00Z', p_to => '2030-06-10 00:00Z', p_barber => 9001),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments
            WHERE barber_id = 9001 AND start_time >= '2030-06-03 00:00Z' AND start_time < '2030-06-10 00:00Z'),
          'a barber''s week: [from, to) on start_time');
SELECT is(pg_temp.listed(2002, p_from => '2030-06-03 10:00Z', p_to => '2030-06-03 10:00Z'), '{}'::bigint[],
          'an empty window [t, t) lists nothing');
SELECT is(pg_temp.listed(2002, p_from => '2030-06-10 10:00Z', p_to => '2030-06-10 10:00:00.000001Z'),
          (SELECT array_agg(id ORDER BY id) FROM booking.appointments WHERE start_time = '2030-06-10 10:00Z'),
          'from is inclusive; two rows at one instant come in id order');
SELECT is(pg_temp.listed(2002, p_status => 'cancelled'), ARRAY[:cancelled]::bigint[], 'status filter: cancelled');
SELECT is(pg_temp.listed(1002, p_status => 'completed'), ARRAY[:completed]::bigint[], 'status filter: completed, as its client');
SELECT is(cardinality(pg_temp.listed(2002, p_status => 'scheduled')),
          (SELECT count(*)::int FROM booking.appointments WHERE status = 'scheduled'), 'status filter: scheduled');

-- 4. Pages: any page size walks the same list exactly once.
SELECT is(pg_temp.listed(2002, 1), pg_temp.listed(2002, 200), 'pages of 1 walk the whole list once, in order');
SELECT is(pg_temp.listed(2002, 4), pg_temp.listed(2002, 200), 'pages of 4 too');
SELECT is((SELECT array_agg(id) FROM booking.list_appointments(2002, p_limit => 3)),
          (pg_temp.listed(2002))[1:3], 'p_limit bounds a page; the first page is the oldest');
SELECT is((SELECT array_agg(id) FROM booking.list_appointments(2002, p_after_start => '2030-06-10 10:00Z',
                                                               p_after_id => :cancelled, p_limit => 200)),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments
            WHERE (start_time, id) > ('2030-06-10 10:00Z'::timestamptz, :cancelled::bigint)),
          'a cursor between two rows of one instant continues with the next id');
SELECT is((SELECT array_agg(id) FROM booking.list_appointments(2002, p_from => '2030-06-10 00:00Z',
                                                               p_after_start => '2030-06-01 00:00Z', p_after_id => 1)),
          (SELECT array_agg(id ORDER BY start_time, id) FROM booking.appointments WHERE start_time >= '2030-06-10 00:00Z'),
          'a cursor before the window: the window''s start counts');

-- 5. Bounds.
SELECT is(pg_temp.listed(2002, p_from => '-infinity', p_to => 'infinity'), pg_temp.listed(2002),
          '-infinity to infinity is the whole list');
SELECT is(pg_temp.listed(2002, p_from => '0001-01-01 00:00Z', p_to => '9999-12-31 00:00Z'), pg_temp.listed(2002),
          '0001-01-01 to 9999-12-31 is the whole list');
SELECT is(pg_temp.listed(2002, p_from => 'infinity'), '{}'::bigint[], 'from infinity: nothing');
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002, p_limit => 0)$$,
                 'BK008', pg_temp.msg('BK008'), 'a limit of 0 is BK008');
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002, p_limit => 201)$$,
                 'BK008', pg_temp.msg('BK008'), 'a limit over 200 is BK008');
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002, p_limit => 2147483647)$$,
                 'BK008', pg_temp.msg('BK008'), 'a huge limit is BK008');
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002, p_limit => NULL)$$,
                 'BK008', pg_temp.msg('BK008'), 'a NULL limit is BK008');
SELECT is((SELECT detail FROM pg_temp.error_of($$SELECT * FROM booking.list_appointments(2002, p_status => 'done')$$)),
          'status must be one of ' || (SELECT string_agg(s, ', ' ORDER BY s) FROM (
              SELECT from_status FROM booking.status_transitions UNION SELECT to_status FROM booking.status_transitions) k(s))
          || ' (got ''done'').',
          'an unknown status is BK008, naming the statuses');
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002, p_from => '2030-06-02Z', p_to => '2030-06-01Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'from after to is BK008');
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002, p_after_start => '2030-06-02Z')$$,
                 'BK008', pg_temp.msg('BK008'), 'half a cursor is BK008');
SET LOCAL booking.acting_role = 'owner';
SELECT throws_ok($$SELECT * FROM booking.list_appointments(2002)$$,
                 'BK008', pg_temp.msg('BK008'), 'a bad booking.acting_role is BK008, as everywhere');
SET LOCAL booking.acting_role = '';
SELECT is(pg_temp.listed(NULL), '{}'::bigint[], 'a NULL user sees nothing');

SELECT * FROM finish();
ROLLBACK;
