-- Rolls back 0006.hardening.sql. Keys of different users that share a text cannot share
-- the old global primary key: the HTTP scoping ("user:<id>:<key>") is restored for all.
DROP TABLE booking.retention_policy;

DELETE FROM booking.working_hours WHERE closes_at < opens_at AND closes_at <> time '00:00';
UPDATE booking.working_hours SET closes_at = time '24:00' WHERE closes_at = time '00:00';
ALTER TABLE booking.working_hours
    DROP CONSTRAINT working_hours_not_empty,
    DROP CONSTRAINT working_hours_opens_within_day,
    ADD CONSTRAINT working_hours_closes_after_opening CHECK (closes_at > opens_at);

ALTER TABLE booking.idempotency_keys
    DROP CONSTRAINT idempotency_keys_form,
    DROP CONSTRAINT idempotency_keys_pkey;
UPDATE booking.idempotency_keys SET idempotency_key = 'user:' || user_id || ':' || idempotency_key
 WHERE NOT starts_with(idempotency_key, 'auto:');
ALTER TABLE booking.idempotency_keys
    DROP COLUMN user_id,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (idempotency_key),
    ADD CONSTRAINT idempotency_keys_length CHECK (length(idempotency_key) BETWEEN 1 AND 255);

CREATE FUNCTION booking.is_valid_timezone(p_name text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = p_name) $$;
ALTER TABLE booking.barbers
    DROP CONSTRAINT barbers_timezone_fkey,
    ADD CONSTRAINT barbers_timezone_valid CHECK (booking.is_valid_timezone(timezone));
DROP FUNCTION booking.sync_time_zones();
DROP TABLE booking.time_zones;
