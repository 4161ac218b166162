-- depends: 0006.hardening
-- One shape for an appointment as the engine answers it (issue 12):
--   * the view booking.appointment_records (sql/functions/appointment_records.sql, re-applied
--     on every migrate) is the appointment's columns plus what a caller needs to show it:
--     end_time, the local booking_date and booking_time and the barber's timezone, and
--     `replayed`. book_appointment, update_appointment, cancel_appointment and
--     get_appointment now return SETOF booking.appointment_records instead of each
--     spelling the columns; their old versions are dropped here (a function's result type
--     cannot change in place) and sql/functions/ creates the new ones.
--   * the status machine is data: booking.status_transitions, loaded from
--     sql/status_transitions.csv on every migrate, like the error catalogue.
DROP FUNCTION IF EXISTS booking.cancel_appointment(bigint, bigint, int);
DROP FUNCTION IF EXISTS booking.update_appointment(bigint, bigint, jsonb, int);
DROP FUNCTION IF EXISTS booking.get_appointment(bigint, bigint);
DROP FUNCTION IF EXISTS booking.book_appointment(bigint, bigint, text, timestamptz, int, int, text, text);

CREATE TABLE booking.status_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    -- 'client': the appointment's own client may make this change (and its barber and
    -- admins); 'staff': only its barber and admins.
    allowed_to  text NOT NULL CONSTRAINT status_transitions_allowed_to_known CHECK (allowed_to IN ('client', 'staff')),
    PRIMARY KEY (from_status, to_status),
    CONSTRAINT status_transitions_a_change CHECK (from_status <> to_status)
);

-- Stored idempotent results gain the derived fields of the new shape, so a replay of a
-- booking made before this migration still answers whole.
UPDATE booking.idempotency_keys k
   SET result = k.result || jsonb_build_object(
           'end_time', (k.result ->> 'start_time')::timestamptz + make_interval(mins => (k.result ->> 'duration_minutes')::int),
           'booking_date', ((k.result ->> 'start_time')::timestamptz AT TIME ZONE b.timezone)::date,
           'booking_time', to_char((k.result ->> 'start_time')::timestamptz AT TIME ZONE b.timezone, 'HH24:MI'),
           'timezone', b.timezone)
  FROM booking.barbers b
 WHERE k.result IS NOT NULL AND b.id = (k.result ->> 'barber_id')::bigint;
UPDATE booking.idempotency_keys SET result = result - 'blocked_during' WHERE result ? 'blocked_during';
