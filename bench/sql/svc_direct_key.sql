-- The service's call as direct SQL: book_appointment with an idempotency key, as the
-- service sends one with every booking ("auto:<uuid>", so its own retry after a lost
-- COMMIT replays instead of booking twice). Same mapping as svc_direct.sql.
SELECT b.id
FROM (SELECT nextval('bench.seq_svc') AS n) s,
     LATERAL booking.book_appointment(1 + s.n % 1000, 1, 'Haircut',
                                      timestamptz '2060-01-01 00:00Z' + (s.n / 1000) * interval '30 minutes',
                                      p_idempotency_key => 'auto:' || gen_random_uuid()) b;
