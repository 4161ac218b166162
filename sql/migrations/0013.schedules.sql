-- depends: 0012.holds
-- Schedules (issue 15, part 2): booking.list_appointments pages through the appointments a
-- user may see, oldest first, by the key (start_time, id). A client's own and a barber's
-- are one range scan of the indexes (user_id, start_time) and (barber_id, start_time) that
-- exist since 0001 (the few rows sharing the cursor's start_time are sorted by id on the
-- way); a shop admin's need the same for the shop.
CREATE INDEX appointments_shop_start_idx ON booking.appointments (shop_id, start_time);
