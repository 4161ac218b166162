-- Reference: the cheapest read of the same barber-day (one index scan, nothing computed).
SELECT count(*) FROM booking.appointments a
WHERE a.barber_id = 1001 AND a.status NOT IN ('cancelled', 'no_show')
  AND a.blocked_during && tstzrange('2031-06-02 00:00Z', '2031-06-03 00:00Z');
