-- booking.shown(value, most characters, quoted) -> text
-- A caller's input as an error DETAIL may echo it: quoted as a literal (unless p_quoted is
-- false, for JSON text that shows its own quotes), and cut to at most p_max characters
-- (60 by default) with the full length said, so a 60,000-character name never comes back
-- as a 60 KB error. NULL shows as NULL. Every DETAIL that echoes input goes through here.
-- Locks: none. Raises: nothing.
CREATE OR REPLACE FUNCTION booking.shown(p_value text, p_max int DEFAULT 60, p_quoted boolean DEFAULT true)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
               WHEN p_value IS NULL THEN 'NULL'
               WHEN pg_catalog.length(p_value) <= p_max THEN
                   CASE WHEN p_quoted THEN pg_catalog.quote_literal(p_value) ELSE p_value END
               ELSE CASE WHEN p_quoted THEN pg_catalog.quote_literal(pg_catalog.left(p_value, p_max))
                         ELSE pg_catalog.left(p_value, p_max) END
                    || '... (' || pg_catalog.length(p_value) || ' characters)'
           END
$$;
