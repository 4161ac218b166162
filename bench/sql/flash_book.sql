-- The same attempts as flash_raw.sql through book_appointment (bench.try_book).
\set slot random(0, 94)
SELECT bench.try_book(1002, timestamptz '2100-01-01 00:00Z' + (s.n / :per_day) * interval '1 day'
                            + :slot * interval '15 minutes')
FROM (SELECT nextval('bench.seq_flash') AS n) s;
