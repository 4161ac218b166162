-- booking.relay_change_feed(max changes, upto) -> (status, events, changes, relayed_lsn, caught_up)
-- The change feed's relay, one call: turns committed changes of booking.appointments into
-- rows of booking.appointment_events and wakes the listeners, outside every booking's
-- transaction. The service's relay (app/relay.py) calls it in a loop where it cannot read
-- the slot over a replication connection (mode outbox, or a login without REPLICATION),
-- and for the outbox left by a mode switch; tests and checkers call it to drain the feed.
--
-- Guarantees:
--   * every committed change is announced, none that rolled back: it reads only what
--     committed (the outbox rows that committed, or the WAL's committed transactions);
--   * event ids grow in the order the events are relayed: one relay at a time
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
--           booking.wal2json_options(); whole transactions, in commit order), turned into
--           events by booking.record_wal_changes. What an earlier call relayed
--           (change_feed.relayed_lsn, committed) is confirmed to the slot first, so the
--           server may recycle that WAL; a batch with nothing to announce is confirmed
--           at once, and then written nowhere (a write would be a transaction to read).
--           While a replication connection streams the slot (the service's relay), the
--           slot is its: status 'streaming', and only the outbox is read here.
-- caught_up: this call read everything that had committed when it started (and, with
-- p_upto, the server had flushed the WAL up to p_upto by then; while streaming: the
-- streaming relay has relayed up to p_upto): once it commits, every change committed
-- before p_upto is an event. A caller that must see the feed complete (a mode switch, a
-- checker, a test) takes p_upto from booking.change_feed_mark() and calls again until
-- caught_up (app/changefeed.py, drain).
-- Status: 'ok'; 'streaming' (above); 'busy' (another relay holds the lock: nothing done);
-- 'slot_lost' (mode logical, but the slot is missing or PostgreSQL invalidated it because
-- it held more WAL than max_slot_wal_keep_size): the caller reopens the feed
-- (booking.open_logical_change_feed, which announces what it may have missed).
-- Locks: advisory (lock_namespace('change_feed'), 0) for the transaction; row locks on the
-- outbox rows it deletes. Raises: BK008 invalid_argument (p_max_changes below 1).
CREATE OR REPLACE FUNCTION booking.relay_change_feed(p_max_changes int DEFAULT 10000, p_upto pg_lsn DEFAULT NULL)
RETURNS TABLE (status text, events bigint, changes bigint, relayed_lsn pg_lsn, caught_up boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_feed      booking.change_feed;
    v_slot      record;
    v_barbers   bigint[] := '{}';
    v_moved     bigint := 0;
    v_read      bigint := 0;
    v_events    bigint := 0;
    v_added     bigint := 0;
    v_relevant  bigint := 0;
    v_lsn       pg_lsn;
    v_flushed   boolean := true;
    v_data      jsonb[];
    v_end       pg_lsn;
    v_target    pg_lsn;
    v_confirmed pg_lsn;
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
        PERFORM pg_notify('booking_events', json_build_object('barber_id', b)::text) FROM unnest(v_barbers) AS b;
    END IF;

    -- 2. The slot.
    IF v_feed.slot_name IS NOT NULL THEN
        SELECT s.confirmed_flush_lsn, s.wal_status, s.active, s.active_pid INTO v_slot
          FROM pg_replication_slots s WHERE s.slot_name = v_feed.slot_name;
        IF NOT FOUND OR v_slot.wal_status = 'lost' OR v_slot.confirmed_flush_lsn IS NULL THEN
            IF v_feed.mode = 'logical' THEN
                RETURN QUERY SELECT 'slot_lost'::text, v_events, v_moved, v_feed.relayed_lsn, false;
                RETURN;
            END IF;
        ELSIF v_slot.active AND v_slot.active_pid IS DISTINCT FROM pg_backend_pid() THEN
            RETURN QUERY SELECT 'streaming'::text, v_events, v_moved, v_feed.relayed_lsn,
                                v_moved < p_max_changes AND (p_upto IS NULL OR v_feed.relayed_lsn >= p_upto);
            RETURN;
        ELSE
            BEGIN
                v_confirmed := v_slot.confirmed_flush_lsn;
                IF v_confirmed < v_feed.relayed_lsn THEN
                    PERFORM pg_replication_slot_advance(v_feed.slot_name, v_feed.relayed_lsn);
                    v_confirmed := v_feed.relayed_lsn;
                END IF;
                v_end := pg_current_wal_flush_lsn();   -- the peek reads at least this far
                SELECT array_agg(c.data::jsonb ORDER BY c.n) INTO v_data
                  FROM pg_logical_slot_peek_changes(v_feed.slot_name, NULL, p_max_changes, VARIADIC booking.wal2json_options())
                       WITH ORDINALITY AS c(lsn, xid, data, n);
                v_read := coalesce(cardinality(v_data), 0);
                IF v_read > 0 THEN
                    SELECT w.events, w.relevant, w.commit_lsn INTO v_added, v_relevant, v_lsn
                      FROM booking.record_wal_changes(v_data) AS w;
                END IF;
                IF v_relevant = 0 THEN
                    -- Nothing here to announce: confirm it now. Past the last commit read, up
                    -- to where the WAL was flushed before the peek when the peek read all of
                    -- it, so that the next call does not decode it again (WAL of other
                    -- databases, checkpoints): no transaction of this database ended between.
                    v_target := CASE WHEN v_read < p_max_changes THEN greatest(v_lsn, v_end) ELSE v_lsn END;
                    IF v_target > v_confirmed THEN
                        PERFORM pg_replication_slot_advance(v_feed.slot_name, v_target);
                    END IF;
                END IF;
            EXCEPTION WHEN object_in_use THEN
                -- A replication connection took the slot meanwhile: it relays; this call's
                -- reading of the slot is undone.
                RETURN QUERY SELECT 'streaming'::text, v_events, v_moved, v_feed.relayed_lsn,
                                    v_moved < p_max_changes AND (p_upto IS NULL OR v_feed.relayed_lsn >= p_upto);
                RETURN;
            END;
            v_events := v_events + v_added;
        END IF;
    END IF;

    RETURN QUERY SELECT 'ok'::text, v_events, v_moved + v_read, coalesce(v_lsn, v_feed.relayed_lsn),
                        v_flushed AND v_moved < p_max_changes AND v_read < p_max_changes;
END
$$;
