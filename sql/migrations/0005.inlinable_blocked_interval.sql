-- depends: 0004.barber_services
-- booking.blocked_interval() stays the one definition of an appointment's blocked interval,
-- [start - before, start + duration + after), now in a form PostgreSQL can inline into the
-- statements that call it (the functions and the trigger), instead of planning a SQL
-- function on every call: no STRICT (NULL in still gives NULL out, through the CASE), and
-- minute arithmetic on the UTC wall clock, whose operators are IMMUTABLE (timestamptz +
-- interval is only STABLE, which forbids inlining an IMMUTABLE function). Same results for
-- every input; the generated column's stored values do not change.
CREATE OR REPLACE FUNCTION booking.blocked_interval(
    p_start timestamptz, p_duration_minutes int, p_buffer_before int, p_buffer_after int)
RETURNS tstzrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
               WHEN p_start IS NULL OR p_duration_minutes IS NULL
                    OR p_buffer_before IS NULL OR p_buffer_after IS NULL THEN NULL
               ELSE tstzrange(((p_start AT TIME ZONE 'UTC') - make_interval(mins => p_buffer_before)) AT TIME ZONE 'UTC',
                              ((p_start AT TIME ZONE 'UTC') + make_interval(mins => p_duration_minutes + p_buffer_after))
                                  AT TIME ZONE 'UTC',
                              '[)')
           END
$$;
