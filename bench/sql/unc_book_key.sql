-- book_appointment with an idempotency key (a new key per booking: the first-use path).
SELECT b.id
FROM (SELECT nextval('bench.seq_unc') AS n) s,
     LATERAL booking.book_appointment(1 + s.n % 1000, 1, 'Haircut',
                                      timestamptz '2030-01-01 00:00Z' + (s.n / 1000) * interval '30 minutes',
                                      p_idempotency_key => 'bench-' || s.n) b;
