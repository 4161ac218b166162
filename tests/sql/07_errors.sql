-- The error catalogue booking.error_codes: one row per SQLSTATE, the contract's messages,
-- every row raisable with its own code and message; and odd inputs that must still end
-- in a catalogued error, never a bare internal one.
BEGIN;
SELECT plan(14);
\ir fixtures.psql

SELECT is((SELECT count(DISTINCT sqlstate)::int FROM booking.error_codes), (SELECT count(*)::int FROM booking.error_codes),
          'every row of booking.error_codes has a SQLSTATE of its own');
SELECT set_eq($$SELECT sqlstate::text FROM booking.error_codes$$,
              ARRAY['23P01', 'BK001', 'BK002', '55P03', 'BK003', 'BK004', 'BK005', 'BK006', 'BK007', 'BK008',
                    'BK009', 'BK010', 'BK011', 'BK012', 'BK013', 'BK014', 'BK015', 'BK016', 'BK017', 'BK018', 'BK019', 'BK021', 'BK023', 'BK024', '40001'],
              'the catalogue holds the contract''s SQLSTATEs, the engine''s own BK003-BK018 and the 40001 it raises');
SELECT is_empty($$SELECT name FROM booking.error_codes
                   WHERE sqlstate !~ '^[0-9A-Z]{5}$' OR btrim(message) = '' OR http_status NOT BETWEEN 400 AND 599$$,
                'every row has a well-formed SQLSTATE, a message and an HTTP error status');
SELECT is((SELECT message FROM booking.error_codes WHERE sqlstate = s), m, format('the message of %s is the contract''s', s))
FROM (VALUES
    ('23P01', 'This time slot conflicts with an existing appointment'),
    ('BK001', 'Booking has been modified by another user'),
    ('55P03', 'Could not acquire lock within timeout period')
) AS v(s, m);
SELECT set_has($$SELECT sqlstate::text, http_status FROM booking.error_codes$$,
               $$VALUES ('23P01', 409), ('BK001', 412), ('BK002', 422), ('55P03', 503)$$,
               'the HTTP statuses of the contract''s errors: 409, 412, 422, 503');
SELECT is_empty($$SELECT e.name, r.code, r.message
                    FROM booking.error_codes e,
                         LATERAL pg_temp.error_of(format('SELECT booking.raise_error(%L, %L)', e.name, 'detail')) AS r
                   WHERE (r.code, r.message, r.detail) IS DISTINCT FROM (e.sqlstate::text, e.message, 'detail')$$,
                'booking.raise_error() raises every catalogued error with its SQLSTATE, message and DETAIL');

-- Odd inputs end in a catalogued error too.
SELECT id AS a FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '2030-06-03 10:00Z') \gset
SELECT throws_ok(sql, code, NULL, d)
FROM (VALUES
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"start_time": "2030-06-03T10:00:00+99:99"}')$$, :a),
     'BK008', 'a start_time with an impossible UTC offset is BK008'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"booking_date": "0000-01-01"}')$$, :a),
     'BK008', 'booking_date 0000-01-01 is BK008'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"barber_id": 1e20}')$$, :a),
     'BK008', 'a barber_id beyond bigint is BK008'),
    (format($$SELECT * FROM booking.update_appointment(%s, 1001, '{"buffer_time_after": 1e400}')$$, :a),
     'BK008', 'a buffer of 1e400 minutes is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, 'TAP Haircut', '294276-12-31 23:59Z')$$,
     'BK008', 'a start whose end is past the last representable instant is BK008'),
    ($$SELECT * FROM booking.book_appointment(9001, 1001, '', '2030-06-03 12:00Z')$$,
     'BK004', 'an empty service name is BK004')
) AS v(sql, code, d);

SELECT * FROM finish();
ROLLBACK;
