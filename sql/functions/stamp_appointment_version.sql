-- Trigger booking.stamp_appointment_version() on booking.appointments, BEFORE INSERT OR UPDATE.
-- Keeps `version` honest for every writer: 1 on insert; on update, one more than before
-- when any column a person can change differs, and unchanged otherwise (updated_at follows
-- the same rule). created_at never changes.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.stamp_appointment_version()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        RETURN NEW;
    END IF;
    NEW.created_at := OLD.created_at;
    IF (NEW.barber_id, NEW.user_id, NEW.service_name, NEW.start_time, NEW.duration_minutes,
        NEW.buffer_time_before, NEW.buffer_time_after, NEW.status, NEW.notes)
       IS DISTINCT FROM
       (OLD.barber_id, OLD.user_id, OLD.service_name, OLD.start_time, OLD.duration_minutes,
        OLD.buffer_time_before, OLD.buffer_time_after, OLD.status, OLD.notes) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER appointments_stamp_version
    BEFORE INSERT OR UPDATE ON booking.appointments
    FOR EACH ROW EXECUTE FUNCTION booking.stamp_appointment_version();
