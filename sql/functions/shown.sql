-- booking.shown(value, most characters, quoted) -> text
-- A caller's input as an error DETAIL may echo it: quoted as a literal (unless p_quoted is
-- false, for JSON text that shows its own quotes), and cut to at most p_max characters
-- (60 by default) with the full length said, so a 60,000-character name never comes back
-- as a 60 KB error. NULL shows as NULL. Every DETAIL that echoes input goes through here.
-- Locks: none. Raises: nothing.
-- PL/pgSQL, not SQL: PostgreSQL does not inline a SQL function called from a PL/pgSQL
-- expression, and planned this one again at every call (89 us of every keyed booking,
-- which names its key in its lock's description: docs/BENCHMARKS.md).
CREATE OR REPLACE FUNCTION booking.shown(p_value text, p_max int DEFAULT 60, p_quoted boolean DEFAULT true)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_value IS NULL THEN
        RETURN 'NULL';
    ELSIF pg_catalog.length(p_value) <= p_max THEN
        RETURN CASE WHEN p_quoted THEN pg_catalog.quote_literal(p_value) ELSE p_value END;
    END IF;
    RETURN CASE WHEN p_quoted THEN pg_catalog.quote_literal(pg_catalog.left(p_value, p_max))
                ELSE pg_catalog.left(p_value, p_max) END
           || '... (' || pg_catalog.length(p_value) || ' characters)';
END
$$;
