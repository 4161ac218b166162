-- Flash sale: every client books barber 1002 on the same day (a new day every :per_day
-- attempts), at a random quarter hour; conflicts are expected and caught (bench.try_raw).
\set slot random(0, 94)
SELECT bench.try_raw(1002, timestamptz '2100-01-01 00:00Z' + (s.n / :per_day) * interval '1 day'
                           + :slot * interval '15 minutes')
FROM (SELECT nextval('bench.seq_flash') AS n) s;
