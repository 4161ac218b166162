-- booking.record_wal_changes(changes) -> (events, relevant, commit_lsn)
-- Turns changes decoded from the WAL into change-feed events: p_changes are wal2json
-- format-2 rows (options booking.wal2json_options(): xids, LSNs and commit times included),
-- whole transactions in commit order, as the relay reads them from the feed's slot, either
-- through the SQL interface (booking.relay_change_feed) or over a replication connection
-- (app/relay.py). The rule of what is announced is booking.appointment_change_events.
--   * an INSERT or UPDATE of booking.appointments in a transaction that committed after
--     change_feed.relayed_lsn becomes its events, in commit order (a change read again is
--     dropped: relayed already, or by the unique key (appointment_id, version, barber_id));
--   * one NOTIFY booking_events '{"barber_id": n}' per barber with new events;
--   * change_feed.relayed_lsn (and relayed_at) move to the batch's last commit when it had
--     a change to announce or a mark (booking.change_feed_mark: a caller waits for it).
-- Returns the events added, the changes of the table read, and the end of the batch's last
-- commit (what the slot may confirm once this transaction commits), NULL for no commit.
-- Runs with DateStyle ISO and TimeZone UTC, so decoded values read back exactly.
-- Locks: advisory (lock_namespace('change_feed'), 0), waiting: one relay at a time.
-- Raises: nothing of its own.
CREATE OR REPLACE FUNCTION booking.record_wal_changes(p_changes jsonb[])
RETURNS TABLE (events bigint, relevant bigint, commit_lsn pg_lsn)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET "DateStyle" = 'ISO, YMD'
SET "TimeZone" = 'UTC'
SET "IntervalStyle" = 'postgres'
AS $$
DECLARE
    v_relayed  pg_lsn;
    v_events   bigint;
    v_relevant bigint;
    v_marks    bigint;
    v_barbers  bigint[];
    v_lsn      pg_lsn;
    v_at       timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(booking.lock_namespace('change_feed'), 0);
    SELECT f.relayed_lsn INTO v_relayed FROM booking.change_feed f;
    WITH raw AS (
        SELECT r.d, r.n, (r.d->>'xid')::xid AS xid FROM unnest(p_changes) WITH ORDINALITY AS r(d, n)
    ), commits AS (
        SELECT r.xid, (r.d->>'nextlsn')::pg_lsn AS commit_lsn, (r.d->>'timestamp')::timestamptz AS committed_at
          FROM raw r WHERE r.d->>'action' = 'C'
    ), changed AS (
        SELECT k.commit_lsn, k.committed_at, r.n,
               (SELECT jsonb_populate_record(NULL::booking.appointments, jsonb_object_agg(col->>'name', col->'value'))
                  FROM jsonb_array_elements(r.d->'columns') AS col) AS new_row,
               (SELECT jsonb_populate_record(NULL::booking.appointments, jsonb_object_agg(col->>'name', col->'value'))
                  FROM jsonb_array_elements(r.d->'identity') AS col) AS old_row
          FROM raw r JOIN commits k ON k.xid = r.xid
         WHERE r.d->>'action' IN ('I', 'U') AND r.d->>'schema' = 'booking' AND r.d->>'table' = 'appointments'
           AND k.commit_lsn > v_relayed
    ), added AS (
        INSERT INTO booking.appointment_events AS e (barber_id, appointment_id, version, kind, payload, created_at)
        SELECT ev.barber_id, ev.appointment_id, ev.version, ev.kind, ev.payload, w.committed_at
          FROM changed w CROSS JOIN LATERAL booking.appointment_change_events(w.old_row, w.new_row) AS ev
         ORDER BY w.commit_lsn, w.n, ev.barber_id
        ON CONFLICT (appointment_id, version, barber_id) DO NOTHING
        RETURNING e.barber_id
    )
    SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM changed),
           (SELECT count(*) FROM raw r WHERE r.d->>'action' = 'M' AND r.d->>'prefix' = 'booking.change_feed.mark'),
           (SELECT array_agg(DISTINCT a.barber_id) FROM added a),
           (SELECT max(k.commit_lsn) FROM commits k), (SELECT max(k.committed_at) FROM commits k)
      INTO v_events, v_relevant, v_marks, v_barbers, v_lsn, v_at;
    IF v_relevant > 0 OR v_marks > 0 THEN
        UPDATE booking.change_feed f
           SET relayed_lsn = greatest(f.relayed_lsn, v_lsn),
               relayed_at = CASE WHEN v_relevant > 0 THEN greatest(f.relayed_at, v_at) ELSE f.relayed_at END
         WHERE f.one_row;
    END IF;
    PERFORM pg_notify('booking_events', json_build_object('barber_id', b)::text) FROM unnest(v_barbers) AS b;
    RETURN QUERY SELECT v_events, v_relevant, v_lsn;
END
$$;
