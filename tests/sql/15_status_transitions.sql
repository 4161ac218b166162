-- The status machine is data (sql/status_transitions.csv, loaded into
-- booking.status_transitions on every migrate): for every pair of statuses and both kinds of
-- actor, update_appointment() does exactly what the table says: the change, BK010 when the
-- table has no such move (or the status is final), BK012 when only staff may make it.
BEGIN;
SELECT plan(61);
\ir fixtures.psql

SELECT set_eq($$SELECT from_status, to_status, allowed_to FROM booking.status_transitions$$,
              $$VALUES ('scheduled', 'confirmed', 'staff'), ('scheduled', 'completed', 'staff'),
                       ('scheduled', 'cancelled', 'client'), ('scheduled', 'no_show', 'staff'),
                       ('confirmed', 'completed', 'staff'), ('confirmed', 'cancelled', 'client'),
                       ('confirmed', 'no_show', 'staff'), ('held', 'cancelled', 'client'),
                       ('scheduled', 'in_progress', 'staff'), ('confirmed', 'in_progress', 'staff'),
                       ('in_progress', 'completed', 'staff')$$,
              'booking.status_transitions holds the file''s rows');

-- One appointment per (from status, to status, actor), each in its own hour of barber 9001
-- (the client 1001 books; 2001 is the barber of 9001).
CREATE TEMP TABLE cases AS
SELECT f.s AS from_status, t.s AS to_status, actor, row_number() OVER () AS n
  FROM unnest(ARRAY['scheduled', 'confirmed', 'in_progress', 'completed', 'cancelled', 'no_show']) AS f(s),
       unnest(ARRAY['scheduled', 'confirmed', 'in_progress', 'completed', 'cancelled', 'no_show']) AS t(s),
       unnest(ARRAY['client', 'barber']) AS actor
 WHERE f.s <> t.s;
ALTER TABLE cases ADD COLUMN appointment bigint;
UPDATE cases c SET appointment = (SELECT id FROM booking.book_appointment(9001, 1001, 'TAP Haircut',
                                            timestamptz '2030-07-01 00:00Z' + make_interval(hours => c.n::int)));
-- Bring each to its from_status as a trusted caller would (the staff row of 2001 decides).
UPDATE booking.appointments a SET status = c.from_status FROM cases c WHERE a.id = c.appointment;

SELECT CASE
           WHEN tr.allowed_to IS NULL THEN
               throws_ok(format($$SELECT * FROM booking.update_appointment(%s, %s, jsonb_build_object('status', %L))$$,
                                c.appointment, CASE c.actor WHEN 'client' THEN 1001 ELSE 2001 END, c.to_status),
                         'BK010', pg_temp.msg('BK010'), format('%s -> %s by the %s: BK010', c.from_status, c.to_status, c.actor))
           WHEN tr.allowed_to = 'staff' AND c.actor = 'client' THEN
               throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, jsonb_build_object('status', %L))$$,
                                c.appointment, c.to_status),
                         'BK012', pg_temp.msg('BK012'), format('%s -> %s by the client: BK012 (staff only)', c.from_status, c.to_status))
           ELSE
               results_eq(format($$SELECT status FROM booking.update_appointment(%s, %s, jsonb_build_object('status', %L))$$,
                                 c.appointment, CASE c.actor WHEN 'client' THEN 1001 ELSE 2001 END, c.to_status),
                          format('VALUES (%L::text)', c.to_status),
                          format('%s -> %s by the %s is allowed', c.from_status, c.to_status, c.actor))
       END
  FROM cases c
  LEFT JOIN booking.status_transitions tr ON tr.from_status = c.from_status AND tr.to_status = c.to_status
 ORDER BY c.n;

SELECT * FROM finish();
ROLLBACK;
