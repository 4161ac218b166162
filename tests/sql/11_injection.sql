-- An injection corpus through every string parameter of the SQL API, called as
-- booking_client: p_service, p_notes, p_idempotency_key of book_appointment() and the keys
-- and values of update_appointment()'s p_changes. Each string is either stored literally
-- (read back byte-identical) or refused with the engine's own SQLSTATE (BK004, BK008,
-- BK009), never an internal error; refused calls leave no row behind, and at the end the
-- schema and an unrelated appointment are intact. Strings PostgreSQL cannot hold (NUL,
-- lone surrogates) are refused at input, before any function runs.
BEGIN;
CREATE TEMP TABLE corpus (n int PRIMARY KEY, label text, s text);
INSERT INTO corpus VALUES
    (1,  'quote and DROP TABLE',  $q$'; DROP TABLE booking.appointments; --$q$),
    (2,  'printf %s',             '%s %d %n %x'),
    (3,  'positional $1',         '$1 $2::text'),
    (4,  'dollar quoting',        '$$; DROP SCHEMA booking CASCADE; $$'),
    (5,  'backslashes',           E'\\ \\\\ \\x00 \\u0000 \\'),
    (6,  'double quote ident',    '"; SELECT pg_sleep(5); --'),
    (7,  'format %I %L',          '%I %L %% %1$s'),
    (8,  'json inside',           '{"status": "completed", "user_id": 1}'),
    (9,  'RTL override',          E'abc\u202Egpj.exe'),
    (10, 'zero-width joiner',     E'\U0001F468\u200D\U0001F469\u200D\U0001F467'),
    (11, 'combining marks',       E'e\u0301\u0302\u0303 Z\u0351\u0352\u0353'),
    (12, 'emoji',                 E'\U0001F488 \u2702\uFE0F'),
    (13, 'BOM, NEL, line sep',    E'\uFEFFx\u0085y\u2028z'),
    (14, 'CR LF tab',             E'a\r\nb\tc'),
    (15, 'LIKE wildcards',        '%_%'),
    (16, 'comment openers',       '/* -- */ */'),
    (17, 'long 2000',             repeat('n', 2000)),
    (18, 'long 100k',             repeat('x', 100000)),
    (19, 'empty',                 ''),
    (20, 'spaces only',           '   ');
GRANT SELECT ON corpus TO booking_client;

SELECT plan(9 + 7 * (SELECT count(*)::int FROM corpus));
\ir fixtures.psql

CREATE TEMP TABLE schema_before AS
SELECT c.oid::regclass::text AS rel, c.relkind FROM pg_class c WHERE c.relnamespace = 'booking'::regnamespace;
SELECT id AS sentinel FROM booking.book_appointment(9002, 1002, 'TAP Haircut', '2030-06-03 08:00Z', p_notes => 'sentinel') \gset
CREATE TEMP TABLE sentinel_before AS SELECT * FROM booking.appointments WHERE id = :sentinel;
-- One appointment per corpus entry to change (barber 9001, one hour apart), booked as owner.
CREATE TEMP TABLE targets AS
SELECT c.n, (SELECT id FROM booking.book_appointment(9001, 1001, 'TAP Haircut',
                                                    '2030-06-03 00:00Z'::timestamptz + make_interval(hours => c.n))) AS id
FROM corpus c;
GRANT SELECT ON targets TO booking_client;

SET LOCAL ROLE booking_client;

-- p_notes of book_appointment: stored as sent (up to 2000 characters), else BK008.
SELECT CASE WHEN length(c.s) <= 2000 THEN
           results_eq(format($$SELECT convert_to(notes, 'UTF8') FROM booking.book_appointment(9004, 1001, 'TAP Haircut',
                                 '2030-06-04 00:00Z'::timestamptz + make_interval(hours => %s), p_notes => %L)$$, c.n, c.s),
                      format($$VALUES (convert_to(%L, 'UTF8'))$$, c.s),
                      format('book_appointment p_notes %s: stored byte-identical', c.label))
       ELSE throws_ok(format($$SELECT * FROM booking.book_appointment(9004, 1001, 'TAP Haircut',
                                 '2030-06-04 00:00Z'::timestamptz + make_interval(hours => %s), p_notes => %L)$$, c.n, c.s),
                      'BK008', NULL, format('book_appointment p_notes %s: refused (BK008)', c.label))
       END
FROM corpus c ORDER BY c.n;

-- p_service: no such service (BK004).
SELECT throws_ok(format($$SELECT * FROM booking.book_appointment(9004, 1001, %L, '2030-06-05 10:00Z')$$, c.s),
                 'BK004', NULL, format('book_appointment p_service %s: service_not_found (BK004)', c.label))
FROM corpus c ORDER BY c.n;

-- p_idempotency_key: 1-200 printable ASCII characters without spaces are stored and
-- replay; others are BK008.
SELECT CASE WHEN c.s ~ '^[\x21-\x7e]{1,200}$' THEN
           results_eq(format($$SELECT replayed FROM booking.book_appointment(9005, 1001, 'TAP Haircut',
                                 '2030-06-06 00:00Z'::timestamptz + make_interval(hours => %1$s), p_idempotency_key => %2$L)
                               UNION ALL
                               SELECT replayed FROM booking.book_appointment(9005, 1001, 'TAP Haircut',
                                 '2030-06-06 00:00Z'::timestamptz + make_interval(hours => %1$s), p_idempotency_key => %2$L)$$,
                             c.n, c.s),
                      $$VALUES (false), (true)$$,
                      format('book_appointment p_idempotency_key %s: used as a key (second call replays)', c.label))
       ELSE throws_ok(format($$SELECT * FROM booking.book_appointment(9005, 1001, 'TAP Haircut',
                                 '2030-06-06 00:00Z'::timestamptz + make_interval(hours => %s), p_idempotency_key => %L)$$, c.n, c.s),
                      'BK008', NULL, format('book_appointment p_idempotency_key %s: refused (BK008)', c.label))
       END
FROM corpus c ORDER BY c.n;

-- p_changes keys: unknown (BK009).
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, jsonb_build_object(%L, 'x'))$$, t.id, c.s),
                 'BK009', NULL, format('update_appointment p_changes key %s: unknown_change_key (BK009)', c.label))
FROM corpus c JOIN targets t USING (n) ORDER BY c.n;

-- p_changes values: notes stored as sent (or BK008); a string where an instant, a date, a
-- time or a number belongs is BK008.
SELECT CASE WHEN length(c.s) <= 2000 THEN
           results_eq(format($$SELECT convert_to(notes, 'UTF8') FROM booking.update_appointment(%s, 1001, jsonb_build_object('notes', %L::text))$$, t.id, c.s),
                      format($$VALUES (convert_to(%L, 'UTF8'))$$, c.s),
                      format('update_appointment notes %s: stored byte-identical', c.label))
       ELSE throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, jsonb_build_object('notes', %L::text))$$, t.id, c.s),
                      'BK008', NULL, format('update_appointment notes %s: refused (BK008)', c.label))
       END
FROM corpus c JOIN targets t USING (n) ORDER BY c.n;
SELECT throws_ok(format($$SELECT * FROM booking.update_appointment(%s, 1001, jsonb_build_object(%L, %L::text))$$, t.id, k, c.s),
                 'BK008', NULL, format('update_appointment %s %s: invalid_argument (BK008)', k, c.label))
FROM corpus c JOIN targets t USING (n) CROSS JOIN unnest(ARRAY['start_time', 'barber_id']) AS k
ORDER BY c.n, k;

-- Strings PostgreSQL cannot hold never reach a function.
SELECT throws_ok($$SELECT E'\u0000'$$, '42601', NULL, 'a NUL character is refused by the SQL parser');
SELECT throws_ok($$SELECT '"\u0000"'::jsonb$$, '22P05', NULL, 'a NUL in JSON is refused at input (22P05)');
SELECT throws_ok($$SELECT '{"notes": "\ud800"}'::jsonb$$, '22P02', NULL, 'a lone surrogate in JSON is refused at input (22P02)');
RESET ROLE;

-- Nothing beyond the requests: the schema, the sentinel, the row counts.
SELECT set_eq($$SELECT c.oid::regclass::text, c.relkind FROM pg_class c WHERE c.relnamespace = 'booking'::regnamespace$$,
              'SELECT * FROM schema_before', 'every relation of schema booking is still there, and nothing new');
SELECT results_eq(format('SELECT * FROM booking.appointments WHERE id = %s', :sentinel), 'SELECT * FROM sentinel_before',
                  'an unrelated appointment is untouched');
SELECT is((SELECT count(*)::int FROM booking.appointments WHERE barber_id = 9004),
          (SELECT count(*)::int FROM corpus WHERE length(s) <= 2000),
          'barber 9004: one appointment per accepted notes string, none for the refused ones');
SELECT is((SELECT count(*)::int FROM booking.appointments WHERE barber_id = 9005),
          (SELECT count(*)::int FROM corpus WHERE s ~ '^[\x21-\x7e]{1,200}$'),
          'barber 9005: one appointment per key, replays created nothing');
SELECT is((SELECT count(*)::int FROM booking.idempotency_keys WHERE idempotency_key IN (SELECT s FROM corpus)),
          (SELECT count(*)::int FROM corpus WHERE s ~ '^[\x21-\x7e]{1,200}$'),
          'each accepted key is stored literally, once');
SELECT is((SELECT count(*)::int FROM booking.appointments a JOIN targets t USING (id) WHERE a.version = 1),
          (SELECT count(*)::int FROM corpus WHERE length(s) > 2000),
          'each target changed exactly when its notes were accepted: the refused changes left version 1');

SELECT * FROM finish();
ROLLBACK;
