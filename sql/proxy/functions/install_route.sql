-- booking_proxy.install_route(function, shop expression, merge) -> text: what was installed
-- Turns one booking function of this (proxy) database into a routed one, from its own
-- signature, so that the routed function cannot drift from the real one:
--   * booking_proxy.<name>(p_partition int, <the four settings>, <its arguments>), a PL/Proxy
--     function: RUN ON p_partition (or ALL), running on the partition
--     `booking.<name>(booking.with_settings(<first argument>, <settings>), <the others>)`;
--   * booking.<name>(<its arguments, defaults included>) replaced by PL/pgSQL that picks the
--     partition (booking_proxy.enter_shop(<shop expression>)), passes this session's
--     settings (booking_proxy.settings()), returns what the partition returned, and on an
--     error re-raises it as one database would (booking_proxy.raise_remote).
-- p_shop is an SQL expression over the parameter names giving the shop id, e.g.
-- 'booking.shop_of_id(p_barber_id)'; NULL runs the call on every partition (functions
-- without arguments: a set is concatenated, a number summed).
-- p_merge (a set-returning function only) lets a call whose shop expression is NULL run on
-- every partition: the rows of all partitions pass through `SELECT * ... AS r <p_merge>`
-- on the proxy, e.g. 'ORDER BY start_time, id LIMIT p_limit' (a page of a list that spans
-- shops: each partition answers its own page, the proxy keeps the first p_limit of their
-- union in the same order). The PL/Proxy function then runs ON
-- booking_proxy.partitions_for(p_partition): the shop's partition, or all of them for NULL.
-- A call whose expression names a shop is routed to it as without p_merge.
-- Locks: ACCESS EXCLUSIVE on nothing; replaces two functions. Raises: 0A000 for a shape
--   it does not route.
DROP FUNCTION IF EXISTS booking_proxy.install_route(regprocedure, text);  -- before p_merge
CREATE OR REPLACE FUNCTION booking_proxy.install_route(p_function regprocedure, p_shop text, p_merge text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f          pg_proc;
    v_name     text;
    v_args     text := pg_get_function_arguments(p_function);
    v_idargs   text := pg_get_function_identity_arguments(p_function);
    v_result   text := pg_get_function_result(p_function);
    v_names    text[] := '{}';
    v_types    text[] := '{}';
    v_call     text[] := '{}';
    v_kind     char;            -- s: set, c: one composite row, b: one scalar
    v_rettype  text;
    v_select   text;
    v_body     text;
    i          int;
    v_old      regprocedure;
BEGIN
    SELECT * INTO f FROM pg_proc WHERE oid = p_function;
    v_name := f.proname;
    IF f.pronamespace <> 'booking'::regnamespace THEN
        RAISE EXCEPTION 'install_route: % is not in schema booking', p_function USING ERRCODE = '0A000';
    END IF;
    FOR i IN 1 .. f.pronargs LOOP
        IF f.proargnames IS NULL OR coalesce(f.proargnames[i], '') = '' THEN
            RAISE EXCEPTION 'install_route: % has an unnamed argument', p_function USING ERRCODE = '0A000';
        END IF;
        v_names := v_names || f.proargnames[i];
        v_types := v_types || format_type(f.proargtypes[i - 1], NULL);
    END LOOP;
    v_rettype := format_type(f.prorettype, NULL);
    v_kind := CASE WHEN f.proretset THEN 's'
                   WHEN (SELECT t.typtype FROM pg_type t WHERE t.oid = f.prorettype) = 'c' THEN 'c'
                   ELSE 'b' END;
    IF p_shop IS NULL AND (f.pronargs > 0 OR v_kind = 'c'
                           OR (v_kind = 'b' AND v_rettype NOT IN ('integer', 'bigint'))) THEN
        RAISE EXCEPTION 'install_route: % cannot run on every partition (only functions without arguments returning a set or a count)',
            p_function USING ERRCODE = '0A000';
    END IF;
    IF p_merge IS NOT NULL AND (NOT f.proretset OR p_shop IS NULL) THEN
        RAISE EXCEPTION 'install_route: % cannot merge (only a set-returning function routed by a shop expression)',
            p_function USING ERRCODE = '0A000';
    END IF;

    -- The call run on the partition: arguments cast to their types (PL/Proxy sends them as
    -- parameters), the first one carrying the settings.
    FOR i IN 1 .. f.pronargs LOOP
        v_call := v_call || CASE WHEN i = 1
            THEN format('booking.with_settings(%I::%s, p_lock_timeout, p_application_checks, p_idempotency_key_ttl, p_acting_role)',
                        v_names[i], v_types[i])
            ELSE format('%I::%s', v_names[i], v_types[i]) END;
    END LOOP;
    v_select := CASE WHEN v_kind = 'b' THEN format('SELECT booking.%I(%s)', v_name, array_to_string(v_call, ', '))
                     ELSE format('SELECT * FROM booking.%I(%s)', v_name, array_to_string(v_call, ', ')) END;

    -- A router of an older shape (other arguments) would linger as an overload: drop it.
    FOR v_old IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'booking_proxy'::regnamespace AND p.proname = v_name
          AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'plproxy')
          AND p.proargtypes::oid[] IS DISTINCT FROM
              (ARRAY['int4', 'text', 'text', 'text', 'text']::regtype[]::oid[] || f.proargtypes::oid[])
    LOOP
        EXECUTE format('DROP FUNCTION %s', v_old);
    END LOOP;
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION booking_proxy.%I(p_partition int, p_lock_timeout text, p_application_checks text, '
        'p_idempotency_key_ttl text, p_acting_role text%s) RETURNS %s '
        'LANGUAGE plproxy AS %L',
        v_name, CASE WHEN v_idargs = '' THEN '' ELSE ', ' || v_idargs END,
        CASE WHEN p_shop IS NULL AND NOT f.proretset THEN 'SETOF ' || v_result ELSE v_result END,
        format(E'\n    CLUSTER ''booking_cluster'';\n    RUN ON %s;\n    %s;\n',
               CASE WHEN p_shop IS NULL THEN 'ALL'
                    WHEN p_merge IS NOT NULL THEN 'booking_proxy.partitions_for(p_partition)'
                    ELSE 'p_partition' END, v_select));

    v_body := format(E'DECLARE\n    v_partition int;\n    v_s text[] := booking_proxy.settings();\n    v_state text; v_message text; v_detail text; v_hint text;\n%s'
                     || E'BEGIN\n    v_partition := %s;\n    %s\nEXCEPTION WHEN OTHERS THEN\n'
                     || E'    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,\n'
                     || E'        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;\n'
                     || E'    PERFORM booking_proxy.raise_remote(v_partition, v_state, v_message, v_detail, v_hint);\n'
                     || E'    %s\nEND\n',
        CASE WHEN v_kind = 's' THEN '' ELSE format(E'    v_result %s;\n', v_rettype) END,
        CASE WHEN p_shop IS NULL THEN 'NULL'
             -- no shop: every partition (NULL), without a shop's lock (a shop moving meanwhile
             -- may be read on both partitions or on neither)
             WHEN p_merge IS NOT NULL THEN format('CASE WHEN (%s) IS NULL THEN NULL ELSE booking_proxy.enter_shop(%s) END',
                                                  p_shop, p_shop)
             ELSE format('booking_proxy.enter_shop(%s)', p_shop) END,
        CASE
            WHEN v_kind = 's' THEN format('RETURN QUERY SELECT * FROM booking_proxy.%I(v_partition, v_s[1], v_s[2], v_s[3], v_s[4]%s) AS r%s;',
                                          v_name, (SELECT string_agg(', ' || quote_ident(n), '') FROM unnest(v_names) n),
                                          CASE WHEN p_merge IS NULL THEN '' ELSE ' ' || p_merge END)
            WHEN p_shop IS NULL THEN format(E'SELECT sum(r)::%s INTO v_result FROM booking_proxy.%I(NULL, NULL, NULL, NULL, NULL) AS r;\n    RETURN v_result;',
                                           v_rettype, v_name)
            WHEN v_kind = 'c' THEN format(E'SELECT * INTO v_result FROM booking_proxy.%I(v_partition, v_s[1], v_s[2], v_s[3], v_s[4]%s);\n    RETURN v_result;',
                                          v_name, (SELECT string_agg(', ' || quote_ident(n), '') FROM unnest(v_names) n))
            ELSE format(E'v_result := booking_proxy.%I(v_partition, v_s[1], v_s[2], v_s[3], v_s[4]%s);\n    RETURN v_result;',
                        v_name, (SELECT string_agg(', ' || quote_ident(n), '') FROM unnest(v_names) n))
        END,
        CASE WHEN v_kind = 's' THEN 'RETURN;' ELSE 'RETURN NULL;' END);
    -- No SET clause (it costs every call a settings save and restore): the body names every
    -- object with its schema, and runs as its caller.
    EXECUTE format('CREATE OR REPLACE FUNCTION booking.%I(%s) RETURNS %s LANGUAGE plpgsql VOLATILE%s AS %L',
                   v_name, v_args, v_result, CASE WHEN f.proisstrict THEN ' STRICT' ELSE '' END, v_body);
    RETURN format('%s -> %s%s', p_function, coalesce(p_shop, 'every partition'),
                  CASE WHEN p_merge IS NULL THEN '' ELSE ', or every partition merged: ' || p_merge END);
END
$$;
