-- Rolls back 0009.token_cache.sql: the old three-column authenticate_token comes back with
-- the previous checkout's sql/functions/ (`make migrate` of that commit).
DROP FUNCTION IF EXISTS booking.authenticate_token(bytea);
DROP FUNCTION IF EXISTS booking.announce_token_change() CASCADE;
