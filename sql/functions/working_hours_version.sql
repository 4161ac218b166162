-- booking.working_hours_version(barber) -> bigint
-- The version of a barber's working hours, their HTTP ETag: the greatest id of the
-- barber's working_hours rows, 0 when there are none. set_working_hours replaces every
-- row, and new rows take new, larger ids, so every replacement that leaves rows changes
-- it; two states with the same version hold the same hours (none, or the same rows).
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.working_hours_version(p_barber_id bigint)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(w.id), 0) FROM booking.working_hours w WHERE w.barber_id = p_barber_id
$$;
