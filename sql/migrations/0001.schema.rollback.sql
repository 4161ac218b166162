-- Rolls back 0001.schema.sql. The roles are cluster-wide and may still own objects in
-- other databases, so they are dropped only when nothing depends on them; btree_gist
-- stays, as other schemas may use it.
DROP SCHEMA booking CASCADE;

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['booking_client', 'booking_app', 'booking_owner'] LOOP
        BEGIN
            EXECUTE format('DROP ROLE IF EXISTS %I', r);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'role % is still used elsewhere and was kept', r;
        END;
    END LOOP;
END
$$;
