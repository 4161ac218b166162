"""Choosing the change feed's mode (`python -m app migrate` does it after the schema).

The change feed turns committed changes of booking.appointments into rows of
booking.appointment_events, outside every booking's transaction; the relay
(booking.relay_change_feed, looped by app.relay) reads them from one of two sources:

  logical  the WAL, through a logical replication slot (wal2json): a booking's transaction
           writes nothing for the feed. Needs wal_level = logical, the wal2json plugin
           (Debian: postgresql-15-wal2json) and REPLICATION for booking_owner (granted
           by the migration when it runs as a superuser).
  outbox   everywhere else: a trigger writes each change into booking.appointment_changes
           in the writer's transaction (one more row, no NOTIFY).

CHANGE_FEED=auto (the default) takes logical when the server allows it and says why not
otherwise; logical insists (and fails); outbox forces the fallback, and drains and drops
an existing slot first so that no change is lost in the switch.
"""

from __future__ import annotations

import logging
import time

import psycopg

log = logging.getLogger("booking.changefeed")

MODES = ("auto", "logical", "outbox")


def configure(conn: psycopg.Connection, mode: str = "auto", *, drain_timeout: float = 120.0) -> str:
    """Put the feed in `mode` on an autocommit connection; returns the mode now in effect."""
    if mode not in MODES:
        raise ValueError(f"CHANGE_FEED must be one of {', '.join(MODES)}, not {mode!r}")
    if not conn.autocommit:
        raise ValueError("configure() needs an autocommit connection (a logical slot is created outside a transaction)")
    if mode in ("auto", "logical"):
        try:
            slot = open_logical(conn)
            log.info("change feed: mode logical, slot %s", slot)
            return "logical"
        except psycopg.Error as e:
            if mode == "logical":
                raise
            reason = (e.diag.message_primary or str(e)).strip()
            log.warning(
                "change feed: logical decoding is not available (%s: %s); using mode outbox (one more row per change)",
                e.sqlstate,
                reason,
                extra={"sqlstate": e.sqlstate},
            )
    conn.execute("SELECT booking.open_outbox_change_feed()")
    # Changes committed before the outbox trigger was on may still be in the slot: relay
    # them, then drop the slot (until it is dropped it keeps WAL).
    if conn.execute("SELECT slot_name IS NOT NULL FROM booking.change_feed").fetchone()[0]:
        drain(conn, timeout=drain_timeout)
        deadline = time.monotonic() + drain_timeout
        while not conn.execute("SELECT booking.drop_change_feed_slot()").fetchone()[0]:
            if time.monotonic() > deadline:  # a relay still streams it
                raise TimeoutError("change feed: the slot is still in use; run migrate again")
            time.sleep(0.1)
    log.info("change feed: mode outbox")
    return "outbox"


def _value(conn, sql: str, args=()):
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
        return cur.fetchone()[0]
    finally:
        cur.close()


def open_logical(conn) -> str:
    """Mode logical on an autocommit connection (psycopg or psycopg2) whose login may create
    replication slots: the slot, created or replaced (when PostgreSQL invalidated it) as a
    statement of its own, then booking.open_logical_change_feed. Returns the slot's name;
    raises the server's error when logical decoding is not possible (55000 wal_level,
    42501 no REPLICATION, 58P01 no wal2json, 53400 no free slot)."""
    name = _value(conn, "SELECT booking.change_feed_slot_name()")
    status = _value(conn, "SELECT (SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s)", (name,))
    if status == "lost":
        _value(conn, "SELECT pg_drop_replication_slot(%s)::text", (name,))
    new = status in (None, "lost")
    if new:
        _value(conn, "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'wal2json')", (name,))
    try:
        return _value(conn, "SELECT booking.open_logical_change_feed(%s)", (new,))
    except Exception:
        if new:  # not left behind to keep WAL
            _value(conn, "SELECT pg_drop_replication_slot(%s)::text", (name,))
        raise


DRAIN = "SELECT status, caught_up FROM booking.relay_change_feed(10000, %s)"
# Where the WAL ends now, made readable: a transaction that writes (booking.change_feed_mark),
# committed with synchronous_commit on, flushes every record before it (with
# synchronous_commit off, records could otherwise wait in memory, out of the slot's reach).
MARK = ("SET LOCAL synchronous_commit = on", "SELECT booking.change_feed_mark()")


def drain(conn: psycopg.Connection, *, timeout: float = 60.0) -> None:
    """Relay until every change committed before now is an event (autocommit connection)."""
    with conn.transaction():
        *prepare, last = MARK
        for statement in prepare:
            conn.execute(statement)
        upto = conn.execute(last).fetchone()
    upto = upto[0]
    deadline = time.monotonic() + timeout
    while True:
        status, caught_up = conn.execute(DRAIN, (upto,)).fetchone()
        if caught_up:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"change feed: not caught up within {timeout:g} s (last status {status})")
        time.sleep(0.05)  # the WAL flush (synchronous_commit off), or another relay at work
