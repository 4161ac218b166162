-- booking.rfc3339(instant) -> text such as 2026-11-26T09:45:00Z
-- The one textual form of an instant in error details, whatever the session's TimeZone.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.rfc3339(p_instant timestamptz)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
-- STABLE like to_char, and no SET search_path, so PostgreSQL inlines it into its callers
-- (which pin theirs).
AS $$ SELECT to_char(p_instant AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
