-- depends: 0018.webhooks
-- Learning from history (issue 18).
--
-- 1. Actual durations: staff mark an appointment started and finished
--    (booking.start_appointment, booking.finish_appointment: status 'in_progress', then
--    'completed'); the database's clock stamps started_at and finished_at
--    (booking.stamp_appointment_version, for every writer). 'in_progress' is active: the
--    exclusion constraint, its partial index and every other "active" predicate are written
--    `status NOT IN ('cancelled', 'no_show', 'expired')`, so an appointment in progress
--    keeps blocking its slot exactly as before (nothing about them changes here).
-- 2. Default buffers per barber and service (booking.set_service_buffers; an admin applies a
--    recommendation of app/learning): read by the bookings that give no buffer. A table of
--    its own, not columns of barber_services, whose rows mean "offers" (a barber with no row
--    there offers every service: a row made only to hold a buffer would change that).
-- 3. Refused booking attempts (a 409 is information for the conflict model): written by the
--    service after the refusal, outside the refused transaction
--    (booking.record_booking_attempt); never by a booking's own transaction.
ALTER TABLE booking.appointments
    DROP CONSTRAINT appointments_status_known,
    ADD CONSTRAINT appointments_status_known
        CHECK (status IN ('held', 'scheduled', 'confirmed', 'in_progress', 'completed', 'cancelled', 'no_show',
                          'expired')),
    ADD COLUMN started_at timestamptz,
    ADD COLUMN finished_at timestamptz,
    ADD CONSTRAINT appointments_finished_after_started
        CHECK (finished_at IS NULL OR (started_at IS NOT NULL AND finished_at >= started_at));

-- The barber's history of actual durations (booking.service_durations): finished ones by start.
CREATE INDEX appointments_barber_finished_idx ON booking.appointments (barber_id, start_time)
    WHERE finished_at IS NOT NULL;

CREATE TABLE booking.barber_service_buffers (
    barber_id          bigint NOT NULL REFERENCES booking.barbers (id) ON DELETE CASCADE,
    service_id         bigint NOT NULL REFERENCES booking.services (id) ON DELETE CASCADE,
    buffer_time_before int NOT NULL
                       CONSTRAINT barber_service_buffers_before_range CHECK (buffer_time_before BETWEEN 0 AND 1440),
    buffer_time_after  int NOT NULL
                       CONSTRAINT barber_service_buffers_after_range CHECK (buffer_time_after BETWEEN 0 AND 1440),
    -- the recommendation applied (app/learning: sample size, quantile, interval), NULL when
    -- an admin set the buffers by hand
    basis              jsonb,
    set_by             bigint,
    set_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (barber_id, service_id)
);
CREATE INDEX barber_service_buffers_service_idx ON booking.barber_service_buffers (service_id);

CREATE TABLE booking.booking_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id      bigint NOT NULL REFERENCES booking.shops (id) ON DELETE CASCADE,
    barber_id    bigint REFERENCES booking.barbers (id) ON DELETE CASCADE,   -- NULL: "any barber"
    service_name text NOT NULL CONSTRAINT booking_attempts_service_length CHECK (length(service_name) <= 200),
    start_time   timestamptz NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL CONSTRAINT booking_attempts_outcome_known CHECK (outcome IN ('conflict'))
);
CREATE INDEX booking_attempts_barber_idx ON booking.booking_attempts (barber_id, attempted_at);
CREATE INDEX booking_attempts_shop_idx ON booking.booking_attempts (shop_id, attempted_at);

-- fairest_free_barbers takes the service and the buffers now (each candidate's own default
-- buffers when none are given): the old signature goes.
DROP FUNCTION IF EXISTS booking.fairest_free_barbers(bigint[], timestamptz, int, tstzrange, int);

-- The answers' shape gains started_at and finished_at after changed_by (the view is
-- recreated by sql/functions/appointment_records.sql; the functions that return it, by
-- their files).
DROP VIEW IF EXISTS booking.appointment_records CASCADE;
