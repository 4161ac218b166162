DROP TABLE booking.barber_services;
