-- booking.relay_change_feed(max changes, upto) -> (status, events, changes, relayed_lsn, caught_up)
-- The change feed's relay: turns committed changes of booking.appointments into rows of
-- booking.appointment_events and wakes the listeners, outside every booking's transaction.
-- The service runs it in a loop (app/relay.py; `python -m app relay` runs it alone).
--
-- Guarantees:
--   * every committed change is announced, none that rolled back: it reads only what
--     committed (the outbox rows that committed, or the WAL's committed transactions);
--   * event ids grow in the order the events are relayed: one relay runs at a time
--     (a transaction-scoped advisory lock; a second caller gets status 'busy' at once),
--     so a subscriber resuming after an id (Last-Event-ID) misses nothing;
--   * a change read twice (a crash between this commit and the slot's confirmation, or
--     both sources while the mode switches) is announced once: the unique key
--     (appointment_id, version, barber_id) drops the copy;
--   * one NOTIFY booking_events '{"barber_id": n}' per barber with new events, sent at
--     this transaction's commit (the notify lock is taken here, never by a booking).
-- Sources, both read on every call, at most p_max_changes rows from each:
--   outbox  booking.appointment_changes (mode outbox, and what was staged before a switch
--           to logical): moved and deleted, oldest first.
--   slot    mode logical: pg_logical_slot_peek_changes on the feed's slot (wal2json,
--           format 2; whole transactions, in commit order). What an earlier call relayed
--           (change_feed.relayed_lsn, committed) is confirmed to the slot first, so the
--           server may recycle that WAL; a batch with nothing to announce is confirmed
--           at once.
-- caught_up: this call read everything that had committed when it started (and, with
-- p_upto, the server had flushed the WAL up to p_upto by then): once it commits, every
-- change committed before p_upto is an event. A caller that must see the feed complete
-- (a mode switch, a checker, a test) takes p_upto from booking.change_feed_mark() and
-- calls again until caught_up (app/changefeed.py, drain).
-- Status: 'ok'; 'busy' (another relay holds the lock: nothing done); 'slot_lost' (mode
-- logical, but the slot is missing or PostgreSQL invalidated it because it held more
-- WAL than max_slot_wal_keep_size): the caller reopens the feed
-- (booking.open_logical_change_feed, which announces what it may have missed).
-- Runs with DateStyle ISO and TimeZone UTC, so the decoded values read back exactly.
-- Locks: advisory (lock_namespace('change_feed'), 0) for the transaction; row locks on the
-- outbox rows it deletes. Raises: BK008 invalid_argument (p_max_changes below 1).
CREATE OR REPLACE FUNCTION booking.relay_change_feed(p_max_changes int DEFAULT 10000, p_upto pg_lsn DEFAULT NULL)
RETURNS TABLE (status text, events bigint, changes bigint, relayed_lsn pg_lsn, caught_up boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET "DateStyle" = 'ISO, YMD'
SET "TimeZone" = 'UTC'
SET "IntervalStyle" = 'postgres'
AS $$
DECLARE
    v_feed     booking.change_feed;
    v_confirmed pg_lsn;
    v_lost     boolean;
    v_barbers  bigint[] := '{}';
    v_more     bigint[];
    v_moved    bigint := 0;
    v_read     bigint := 0;
    v_events   bigint := 0;
    v_added    bigint := 0;
    v_relevant bigint := 0;
    v_lsn      pg_lsn;
    v_at       timestamptz;
    v_flushed  boolean := true;
    v_lsns     pg_lsn[];
    v_xids     xid[];
    v_data     jsonb[];
    v_end      pg_lsn;
    v_target   pg_lsn;
BEGIN
    IF p_max_changes IS NULL OR p_max_changes < 1 THEN
        PERFORM booking.raise_error('invalid_argument',
            format('p_max_changes must be at least 1 (got %s).', coalesce(p_max_changes::text, 'NULL')));
    END IF;
    IF NOT pg_try_advisory_xact_lock(booking.lock_namespace('change_feed'), 0) THEN
        RETURN QUERY SELECT 'busy'::text, 0::bigint, 0::bigint, NULL::pg_lsn, false;
        RETURN;
    END IF;
    SELECT * INTO v_feed FROM booking.change_feed;
    IF p_upto IS NOT NULL AND NOT pg_is_in_recovery() THEN
        v_flushed := pg_current_wal_flush_lsn() >= p_upto;   -- what the slot can show now
    END IF;

    -- 1. The outbox (looked at only when it has a row: an idle call plans nothing).
    IF EXISTS (SELECT FROM booking.appointment_changes) THEN
        WITH moved AS (
            DELETE FROM booking.appointment_changes c
             WHERE c.id IN (SELECT s.id FROM booking.appointment_changes s ORDER BY s.id LIMIT p_max_changes)
            RETURNING c.*
        ), added AS (
            INSERT INTO booking.appointment_events AS e (barber_id, appointment_id, version, kind, payload, created_at)
            SELECT m.barber_id, m.appointment_id, m.version, m.kind, m.payload, m.created_at
              FROM moved m ORDER BY m.id
            ON CONFLICT (appointment_id, version, barber_id) DO NOTHING
            RETURNING e.barber_id
        )
        SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM added),
               coalesce((SELECT array_agg(DISTINCT a.barber_id) FROM added a), '{}')
          INTO v_moved, v_events, v_barbers;
    END IF;

    -- 2. The slot.
    IF v_feed.slot_name IS NOT NULL THEN
        SELECT s.confirmed_flush_lsn, s.wal_status = 'lost' INTO v_confirmed, v_lost
          FROM pg_replication_slots s WHERE s.slot_name = v_feed.slot_name;
        IF NOT FOUND OR v_lost OR v_confirmed IS NULL THEN
            IF v_feed.mode = 'logical' THEN
                PERFORM pg_notify('booking_events', json_build_object('barber_id', b)::text) FROM unnest(v_barbers) b;
                RETURN QUERY SELECT 'slot_lost'::text, v_events, v_moved, v_feed.relayed_lsn, false;
                RETURN;
            END IF;
        ELSE
            IF v_confirmed < v_feed.relayed_lsn THEN
                PERFORM pg_replication_slot_advance(v_feed.slot_name, v_feed.relayed_lsn);
                v_confirmed := v_feed.relayed_lsn;
            END IF;
            v_end := pg_current_wal_flush_lsn();   -- the peek reads at least this far
            -- Read first; the statement that turns rows into events is planned only when
            -- there are rows.
            SELECT array_agg(c.lsn ORDER BY c.n), array_agg(c.xid ORDER BY c.n), array_agg(c.data::jsonb ORDER BY c.n)
              INTO v_lsns, v_xids, v_data
              FROM pg_logical_slot_peek_changes(v_feed.slot_name, NULL, p_max_changes,
                   'format-version', '2', 'include-timestamp', '1', 'include-types', '0',
                   'actions', 'insert,update', 'add-tables', 'booking.appointments',
                   'filter-msg-prefixes', 'booking.change_feed.mark')
                   WITH ORDINALITY AS c(lsn, xid, data, n);
            v_read := coalesce(cardinality(v_lsns), 0);
            IF v_read > 0 THEN
                WITH raw AS (
                    SELECT r.lsn, r.xid, r.d FROM unnest(v_lsns, v_xids, v_data) AS r(lsn, xid, d)
                ), commits AS (
                    SELECT r.xid, r.lsn AS commit_lsn, (r.d->>'timestamp')::timestamptz AS committed_at
                      FROM raw r WHERE r.d->>'action' = 'C'
                ), changed AS (
                    SELECT k.commit_lsn, k.committed_at, r.lsn,
                           (SELECT jsonb_populate_record(NULL::booking.appointments, jsonb_object_agg(col->>'name', col->'value'))
                              FROM jsonb_array_elements(r.d->'columns') AS col) AS new_row,
                           (SELECT jsonb_populate_record(NULL::booking.appointments, jsonb_object_agg(col->>'name', col->'value'))
                              FROM jsonb_array_elements(r.d->'identity') AS col) AS old_row
                      FROM raw r JOIN commits k ON k.xid = r.xid
                     WHERE r.d->>'action' IN ('I', 'U') AND k.commit_lsn > v_feed.relayed_lsn
                ), added AS (
                    INSERT INTO booking.appointment_events AS e (barber_id, appointment_id, version, kind, payload, created_at)
                    SELECT ev.barber_id, ev.appointment_id, ev.version, ev.kind, ev.payload, w.committed_at
                      FROM changed w CROSS JOIN LATERAL booking.appointment_change_events(w.old_row, w.new_row) AS ev
                     ORDER BY w.commit_lsn, w.lsn, ev.barber_id
                    ON CONFLICT (appointment_id, version, barber_id) DO NOTHING
                    RETURNING e.barber_id
                )
                SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM added),
                       coalesce((SELECT array_agg(DISTINCT a.barber_id) FROM added a), '{}'),
                       (SELECT max(k.commit_lsn) FROM commits k), (SELECT max(k.committed_at) FROM commits k)
                  INTO v_relevant, v_added, v_more, v_lsn, v_at;
                v_events := v_events + v_added;
                v_barbers := v_barbers || v_more;
            END IF;
            IF v_relevant > 0 THEN
                UPDATE booking.change_feed f
                   SET relayed_lsn = greatest(f.relayed_lsn, v_lsn), relayed_at = greatest(f.relayed_at, v_at)
                 WHERE f.one_row;
            ELSE
                -- Nothing here to announce: confirm it now, and write nothing (a write would
                -- itself be a transaction for the next call to read). Past the last commit
                -- read, up to where the WAL was flushed before the peek when the peek read
                -- all of it, so that the next call does not decode it again (WAL of other
                -- databases, checkpoints): no transaction of this database ended in between.
                v_target := CASE WHEN v_read < p_max_changes THEN greatest(v_lsn, v_end) ELSE v_lsn END;
                IF v_target > v_confirmed THEN
                    PERFORM pg_replication_slot_advance(v_feed.slot_name, v_target);
                END IF;
            END IF;
        END IF;
    END IF;

    PERFORM pg_notify('booking_events', json_build_object('barber_id', b)::text)
       FROM (SELECT DISTINCT x AS b FROM unnest(v_barbers) AS x) AS d;
    RETURN QUERY SELECT 'ok'::text, v_events, v_moved + v_read, coalesce(v_lsn, v_feed.relayed_lsn),
                        v_flushed AND v_moved < p_max_changes AND v_read < p_max_changes;
END
$$;
