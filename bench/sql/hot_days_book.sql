-- book_appointment for the same mapping as hot_days_raw.sql.
SELECT b.id
FROM (SELECT nextval('bench.seq_hot') AS n) s,
     LATERAL booking.book_appointment(1001, 1, 'Haircut',
         timestamptz '2040-01-01 00:00Z' + (s.n % 20000) * interval '1 day' + (s.n / 20000) * interval '30 minutes') b;
