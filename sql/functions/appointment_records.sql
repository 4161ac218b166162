-- View booking.appointment_records: an appointment as the engine answers it, the one
-- definition of that shape (the model is pgmq's message_record). Its row type is the
-- result of book_appointment, update_appointment, cancel_appointment and get_appointment,
-- and what the HTTP service and app.booking return, field for field:
--   the appointment's columns (not blocked_during, which is derived and internal: the
--   blocked interval goes to callers in a conflict's DETAIL),
--   end_time      start_time + duration (the blocked interval's buffers excluded),
--   booking_date  the local date in the barber's time zone,
--   booking_time  the local time, 'HH24:MI' (with ':SS' when the seconds are not zero),
--   timezone      the barber's IANA zone,
--   replayed      whether the answer repeats an earlier one (book_appointment's idempotent
--                 replays; always false when read).
-- To add a field to every answer: add it at the end here (a view replaced in place may only
-- append columns) and to app.records.Appointment. Not granted to anyone: callers read it
-- through the functions, which apply who may see what.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE VIEW booking.appointment_records AS
SELECT a.id, a.barber_id, a.user_id, a.service_name, a.start_time, a.duration_minutes,
       a.buffer_time_before, a.buffer_time_after, a.status, a.notes, a.version, a.created_at, a.updated_at,
       a.shop_id, a.hold_expires_at, a.series_id, a.changed_by, a.started_at, a.finished_at,
       a.start_time + make_interval(mins => a.duration_minutes) AS end_time,
       (a.start_time AT TIME ZONE b.timezone)::date AS booking_date,
       to_char(a.start_time AT TIME ZONE b.timezone,
               CASE WHEN extract(second FROM a.start_time) = 0 THEN 'HH24:MI' ELSE 'HH24:MI:SS' END) AS booking_time,
       b.timezone,
       false AS replayed
FROM booking.appointments a
JOIN booking.barbers b ON b.id = a.barber_id;
