-- Trigger booking.stamp_appointment_version() on booking.appointments, BEFORE INSERT OR UPDATE.
-- Keeps `version` honest for every writer: 1 on insert; on update, one more than before
-- when any column a person can change differs, and unchanged otherwise (updated_at follows
-- the same rule). created_at never changes.
-- The actual times, by the database's clock, for every writer: a row that becomes
-- 'in_progress' gets started_at = now(), and one that goes from 'in_progress' to
-- 'completed' gets finished_at = now() (booking.start_appointment, finish_appointment, a
-- status change of update_appointment, direct SQL), unless the writer sets them itself.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.stamp_appointment_version()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        IF NEW.status = 'in_progress' AND NEW.started_at IS NULL THEN
            NEW.started_at := now();
        END IF;
        RETURN NEW;
    END IF;
    NEW.created_at := OLD.created_at;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NEW.status = 'in_progress' AND NEW.started_at IS NOT DISTINCT FROM OLD.started_at THEN
            NEW.started_at := now();
        ELSIF OLD.status = 'in_progress' AND NEW.status = 'completed'
              AND NEW.finished_at IS NOT DISTINCT FROM OLD.finished_at THEN
            NEW.finished_at := now();
        END IF;
    END IF;
    IF (NEW.barber_id, NEW.user_id, NEW.service_name, NEW.start_time, NEW.duration_minutes,
        NEW.buffer_time_before, NEW.buffer_time_after, NEW.status, NEW.notes, NEW.started_at, NEW.finished_at)
       IS DISTINCT FROM
       (OLD.barber_id, OLD.user_id, OLD.service_name, OLD.start_time, OLD.duration_minutes,
        OLD.buffer_time_before, OLD.buffer_time_after, OLD.status, OLD.notes, OLD.started_at, OLD.finished_at) THEN
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
