-- depends: 0003.finite_start
-- Which services a barber offers, for "any barber" bookings. A barber with no rows here
-- offers every service (like a barber with no working hours works at any time).
CREATE TABLE booking.barber_services (
    barber_id  bigint NOT NULL REFERENCES booking.barbers (id) ON DELETE CASCADE,
    service_id bigint NOT NULL REFERENCES booking.services (id) ON DELETE CASCADE,
    PRIMARY KEY (barber_id, service_id)
);
CREATE INDEX barber_services_service_idx ON booking.barber_services (service_id);
