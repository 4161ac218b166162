-- book_appointment for the same (barber, slot) mapping as unc_raw.sql.
SELECT b.id
FROM (SELECT nextval('bench.seq_unc') AS n) s,
     LATERAL booking.book_appointment(1 + s.n % 1000, 1, 'Haircut',
                                      timestamptz '2030-01-01 00:00Z' + (s.n / 1000) * interval '30 minutes') b;
