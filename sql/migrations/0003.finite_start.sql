-- depends: 0002.availability_and_events
-- An appointment starts at a real instant before the year 10000. 'infinity' would give an
-- empty blocked interval, which overlaps nothing, so it must never be stored by any writer.
ALTER TABLE booking.appointments
    ADD CONSTRAINT appointments_start_finite
    CHECK (isfinite(start_time) AND start_time < timestamptz '9999-12-31 00:00:00+00');
