CREATE OR REPLACE FUNCTION booking.blocked_interval(
    p_start timestamptz, p_duration_minutes int, p_buffer_before int, p_buffer_after int)
RETURNS tstzrange
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT tstzrange(p_start - make_interval(mins => p_buffer_before),
                     p_start + make_interval(mins => p_duration_minutes + p_buffer_after),
                     '[)')
$$;
