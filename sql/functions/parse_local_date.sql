-- booking.parse_local_date(field name, text) -> date
-- A local calendar date written YYYY-MM-DD, a real day from 0001-01-01 to 9999-12-31: the
-- one reading of a booking date sent as text (the HTTP service and app.booking send dates
-- as text; update_appointment's booking_date too). Checked without a cast that could fail,
-- so no subtransaction: the form by a pattern, the day against its month's length.
-- SECURITY DEFINER (search_path pinned): granted to the application roles, it raises
-- through the catalogue, which they may not call themselves.
-- Locks: none. Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.parse_local_date(p_field text, p_value text)
RETURNS date
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parts text[] := regexp_match(p_value, '^(\d{4})-(\d{2})-(\d{2})$');
    v_year  int;
    v_month int;
    v_day   int;
BEGIN
    IF v_parts IS NOT NULL THEN
        v_year := v_parts[1]::int;
        v_month := v_parts[2]::int;
        v_day := v_parts[3]::int;
        IF v_year >= 1 AND v_month BETWEEN 1 AND 12 AND v_day >= 1
           AND v_day <= extract(day FROM make_date(v_year, v_month, 1) + interval '1 month - 1 day') THEN
            RETURN make_date(v_year, v_month, v_day);
        END IF;
    END IF;
    PERFORM booking.raise_error('invalid_argument',
        format('%s must be a real date written YYYY-MM-DD, from 0001-01-01 to 9999-12-31 (got %s).',
               p_field, booking.shown(p_value)));
END
$$;
