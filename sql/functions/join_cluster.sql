-- booking.join_cluster(partition number) -> int: the number, recorded
-- Makes this freshly migrated database partition K of a cluster (`python -m app cluster
-- up`): records K, removes the default shop unless K is 0 (the proxy's directory places
-- shop 1 on partition 0; an empty copy elsewhere would be a second home), and makes every
-- id sequence step by 64 from residue K + 1, so that ids made here never equal ids made on
-- another partition (a moved shop brings its ids along). Running it again with the same K
-- changes nothing; another K is refused.
-- Locks: ACCESS EXCLUSIVE on the sequences (ALTER SEQUENCE). Raises: BK008 invalid_argument.
CREATE OR REPLACE FUNCTION booking.join_cluster(p_partition int)
RETURNS int
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_seq   regclass;
    v_last  bigint;
    v_next  bigint;
BEGIN
    IF p_partition IS NULL OR p_partition NOT BETWEEN 0 AND 63 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('A partition number is from 0 to 63 (got %s).', coalesce(p_partition::text, 'NULL')));
    END IF;
    IF booking.this_partition() IS NOT NULL THEN
        IF booking.this_partition() <> p_partition THEN
            PERFORM booking.raise_error('invalid_argument',
                format('This database is partition %s already.', booking.this_partition()));
        END IF;
        RETURN p_partition;
    END IF;
    INSERT INTO booking.partition_membership (partition) VALUES (p_partition);
    IF p_partition <> 0 THEN
        DELETE FROM booking.shops s WHERE s.id = 1
          AND NOT EXISTS (SELECT 1 FROM booking.barbers b WHERE b.shop_id = 1)
          AND NOT EXISTS (SELECT 1 FROM booking.services v WHERE v.shop_id = 1);
    END IF;
    FOR v_seq IN
        SELECT pg_get_serial_sequence(format('booking.%I', c.relname), a.attname)::regclass
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind = 'r' AND a.attidentity <> ''
          AND c.relname IN ('barbers', 'services', 'appointments', 'working_hours', 'time_off', 'webhook_subscriptions')
    LOOP
        SELECT coalesce(max(last_value), 0) INTO v_last FROM pg_sequences
         WHERE format('%I.%I', schemaname, sequencename)::regclass = v_seq;
        v_next := v_last + 1;
        v_next := v_next + ((p_partition + 1 - v_next) % 64 + 64) % 64;
        EXECUTE format('ALTER SEQUENCE %s INCREMENT BY 64 RESTART WITH %s', v_seq, v_next);
    END LOOP;
    RETURN p_partition;
END
$$;
