-- The service's baseline: book_appointment called directly, one booking per transaction,
-- the same (barber, slot) mapping as bench/wrk_book.lua (in its own region of time).
SELECT b.id
FROM (SELECT nextval('bench.seq_svc') AS n) s,
     LATERAL booking.book_appointment(1 + s.n % 1000, 1, 'Haircut',
                                      timestamptz '2060-01-01 00:00Z' + (s.n / 1000) * interval '30 minutes') b;
