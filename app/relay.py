"""The change feed's relay: what turns committed changes into events, by one process at a time.

Every service process runs a ChangeFeedRelay (CHANGE_FEED_RELAY=on); `python -m app relay`
runs one alone (a deployment where only internal services write through SQL; the
benchmarks). It works in a thread of its own, with connections of its own:

- **Leadership.** Its `ops` connection (as DB_ROLE, like the service's pools) tries the
  session advisory lock (booking.lock_namespace('change_feed'), 1): the process that holds it
  relays, the others try again every CHANGE_FEED_STANDBY_SECONDS, so when the leader's
  process or connection dies another takes over within that. (The SQL functions also take a
  transaction lock of their own, so two relays never interleave even if this were wrong.)
- **Streaming** (mode logical, CHANGE_FEED_STREAM=on, a login with REPLICATION): a
  replication connection (psycopg2's LogicalReplicationConnection) streams the feed's slot
  with booking.wal2json_options(). Messages arrive as transactions commit; whole
  transactions are handed to booking.record_wal_changes in one call (as many as have
  arrived: a batch grows with the load, up to CHANGE_FEED_BATCH rows), and the slot is told
  how far it may forget once that call committed. The decoder runs continuously: nothing
  is decoded twice, and nobody polls. Transactions without a change of the appointments
  (other tables, the relay's own) are confirmed without a write.
- **Polling** (mode outbox, or streaming not possible): booking.relay_change_feed() every
  CHANGE_FEED_POLL_INTERVAL, at once again after a full batch. In mode logical this reads
  the slot through the SQL interface, which decodes from the slot's restart point at each
  call: fine for a light load, but under a sustained one it falls behind (docs/BENCHMARKS.md),
  hence streaming.
- A lost slot (status 'slot_lost', or the stream refused) is reopened
  (booking.open_logical_change_feed, which announces what may have been missed); if logical
  decoding is no longer possible the feed falls back to mode outbox.
- Every few seconds the leader reads booking.change_feed_status() into the metrics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import threading
import time

import psycopg2
import psycopg2.extras

from app import metrics
from app.changefeed import DRAIN, MARK, open_logical
from app.config import Settings
from app.migrate import libpq_url

log = logging.getLogger("booking.relay")

LOCK_NAMESPACE = 0x424B0005  # booking.lock_namespace('change_feed')
LEADER_KEY = 1
STATUS_EVERY = 5.0  # seconds between reads of change_feed_status() into the metrics
OUTBOX_EVERY = 1.0  # seconds between looks at the outbox while streaming (a mode switch leaves rows)
KEEPALIVE_EVERY = 10.0  # seconds between status messages to the server while streaming
RELEVANT = ('"action":"I"', '"action":"U"', '"action":"M"')  # rows record_wal_changes must see


class StreamUnavailable(Exception):
    """Streaming the slot is not possible here (no REPLICATION, pg_hba, no EXECUTE): poll."""


def lsn_int(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


class ChangeFeedRelay:
    def __init__(self, settings: Settings, *, max_backoff: float = 5.0):
        self.settings = settings
        self.max_backoff = max_backoff
        self.leader = threading.Event()
        self.reading: str | None = None  # 'stream' or 'poll' while leading
        self.relayed = 0  # events relayed by this process
        self._stream_allowed = settings.change_feed_stream
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_status = 0.0

    # --- connections ---------------------------------------------------------------------
    def _connect(self, *, as_role: bool, **kw):
        """A psycopg2 connection; as_role: acting as DB_ROLE, like the service's pools."""
        options = f"-c role={self.settings.db_role}" if as_role and self.settings.db_role else None
        conn = psycopg2.connect(
            libpq_url(self.settings.database_url),
            application_name="booking-relay",
            connect_timeout=5,
            **({"options": options} if options else {}),
            **kw,
        )
        if not kw.get("connection_factory"):
            conn.autocommit = True
        return conn

    @staticmethod
    def _one(conn, sql: str, args=()):
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()

    # --- the thread --------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            ops = None
            try:
                ops = self._connect(as_role=True)
                while not self._one(ops, "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, LEADER_KEY))[0]:
                    if self._stop.wait(self.settings.change_feed_standby_seconds):
                        return
                log.info("change feed: this process runs the relay")
                self.leader.set()
                metrics.FEED_RELAY_LEADER.set(1)
                backoff = 0.1
                self._lead(ops)
            except (psycopg2.Error, OSError) as e:
                log.warning("change feed relay: %s; retrying in %.1fs", str(e).strip(), backoff)
                self._stop.wait(backoff)
                backoff = min(self.max_backoff, backoff * 2)
            finally:
                self.leader.clear()
                self.reading = None
                metrics.FEED_RELAY_LEADER.set(0)
                if ops is not None:
                    ops.close()

    def _lead(self, ops) -> None:
        while not self._stop.is_set():
            mode, slot, slot_status = self._one(
                ops, "SELECT mode, slot_name, slot_status FROM booking.change_feed_status()"
            )
            if mode == "logical" and slot_status in ("missing", "lost"):
                self._reopen(ops)
                continue
            if mode == "logical" and self._stream_allowed:
                try:
                    self.reading = "stream"
                    self._stream(ops, slot)
                    continue
                except StreamUnavailable as e:
                    log.warning("change feed: cannot stream the slot (%s); polling it instead", e)
                    self._stream_allowed = False
            self.reading = "poll"
            self._poll(ops)

    def _reopen(self, ops) -> None:
        """A new slot (created by the login of DATABASE_URL: it needs REPLICATION), or the outbox."""
        try:
            login = self._connect(as_role=False)
            try:
                slot = open_logical(login)
            finally:
                login.close()
            log.warning("change feed: the replication slot was lost; reopened as %s (missed changes announced)", slot)
        except psycopg2.Error as e:
            log.error(
                "change feed: cannot reopen the replication slot (%s); falling back to mode outbox "
                "(python -m app migrate returns to mode logical)",
                str(e).strip(),
            )
            self._one(ops, "SELECT booking.open_outbox_change_feed()")

    def _report(self, ops) -> None:
        if time.monotonic() < self._next_status:
            return
        self._next_status = time.monotonic() + STATUS_EVERY
        lag, pending = self._one(ops, "SELECT lag_bytes, pending_changes FROM booking.change_feed_status()")
        metrics.FEED_LAG_BYTES.set(-1 if lag is None else float(lag))
        metrics.FEED_PENDING.set(pending)

    def _count(self, events: int) -> None:
        if events:
            self.relayed += events
            metrics.FEED_EVENTS.inc(events)

    # --- polling -----------------------------------------------------------------------------
    def _poll(self, ops) -> None:
        """booking.relay_change_feed() until the mode or the slot's state calls for a change."""
        batch = self.settings.change_feed_batch
        while not self._stop.is_set():
            status, events, changes = self._one(
                ops, "SELECT status, events, changes FROM booking.relay_change_feed(%s)", (batch,)
            )
            self._count(events)
            self._report(ops)
            if status in ("slot_lost", "streaming") or (status == "ok" and self._stream_allowed and self._logical(ops)):
                return
            if status == "ok" and changes >= batch:
                continue  # more is waiting
            self._stop.wait(self.settings.change_feed_poll_interval)

    def _logical(self, ops) -> bool:
        return self._one(ops, "SELECT mode = 'logical' FROM booking.change_feed_status()")[0]

    # --- streaming ---------------------------------------------------------------------------
    def _stream(self, ops, slot: str) -> None:
        try:
            sink = self._connect(as_role=False)  # record_wal_changes: granted to no app role
            repl = self._connect(as_role=False, connection_factory=psycopg2.extras.LogicalReplicationConnection)
        except psycopg2.OperationalError as e:  # no REPLICATION, no pg_hba line for replication
            raise StreamUnavailable(str(e).strip().splitlines()[0]) from e
        try:
            options = self._one(sink, "SELECT booking.wal2json_options()")[0]
            cur = repl.cursor()
            try:
                cur.start_replication(
                    slot_name=slot, decode=True, options=dict(zip(options[::2], options[1::2], strict=True))
                )
            except psycopg2.errors.ObjectInUse:
                raise  # another process streams it: the outer loop retries
            except psycopg2.Error as e:
                if e.pgcode in ("42704", "55000"):  # the slot is gone or invalidated: reopen
                    return
                raise StreamUnavailable(str(e).strip().splitlines()[0]) from e
            log.info("change feed: streaming slot %s", slot)
            self._consume(ops, sink, cur)
        except psycopg2.errors.InsufficientPrivilege as e:  # nothing confirmed: polling reads it again
            raise StreamUnavailable(f"the login of DATABASE_URL may not: {str(e).strip().splitlines()[0]}") from e
        finally:
            repl.close()
            sink.close()

    def _consume(self, ops, sink, cur) -> None:
        batch_max = self.settings.change_feed_batch
        rows: list[str] = []  # the batch: whole transactions, then a partial one
        complete = 0  # rows[:complete] are whole transactions
        commit_end = 0  # end of the last whole transaction in rows
        confirmed = 0
        last_outbox = last_feedback = time.monotonic()
        while not self._stop.is_set():
            msg = cur.read_message()
            if msg is not None:
                payload = msg.payload
                rows.append(payload)
                if payload.startswith('{"action":"C"'):
                    complete = len(rows)
                    commit_end = lsn_int(json.loads(payload)["nextlsn"])
                if complete < batch_max:
                    continue  # take what has arrived before writing
            if complete:
                done, rows = rows[:complete], rows[complete:]
                complete = 0
                if any(marker in row for row in done for marker in RELEVANT):
                    try:
                        events = self._one(sink, "SELECT events FROM booking.record_wal_changes(%s::jsonb[])", (done,))
                    except psycopg2.errors.InsufficientPrivilege as e:  # nothing confirmed: polling reads it
                        raise StreamUnavailable(
                            f"the login may not execute booking.record_wal_changes ({e.pgcode})"
                        ) from e
                    self._count(events[0])
                confirmed = max(confirmed, commit_end)
                cur.send_feedback(flush_lsn=confirmed)
                last_feedback = time.monotonic()
                continue
            now = time.monotonic()
            if now - last_feedback > KEEPALIVE_EVERY:
                if not rows and cur.wal_end:  # nothing half-read: all before the server's end is ours
                    confirmed = max(confirmed, cur.wal_end)
                cur.send_feedback(flush_lsn=confirmed, reply=True)
                last_feedback = now
            if now - last_outbox > OUTBOX_EVERY:
                last_outbox = now
                status, events = self._one(
                    ops, "SELECT status, events FROM booking.relay_change_feed(%s)", (batch_max,)
                )
                self._count(events)
                if status == "slot_lost" or not self._logical(ops):
                    return
                self._report(ops)
            select.select([cur], [], [], 0.2)

    # --- start and stop --------------------------------------------------------------------
    async def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="booking-change-feed-relay", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    async def wait_leader(self, timeout: float) -> None:
        """Until this process leads (TimeoutError after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not self.leader.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError("this relay did not become the leader")
            await asyncio.sleep(0.02)


async def drain(conn, *, timeout: float = 60.0) -> None:
    """Relay until every change committed before now is an event (app.changefeed.drain, for
    an asyncpg connection): a mark, then booking.relay_change_feed until caught up (while a
    relay streams the slot, until it has relayed past the mark)."""
    async with conn.transaction():
        *prepare, last = MARK
        for statement in prepare:
            await conn.execute(statement)
        upto = await conn.fetchval(last)
    deadline = time.monotonic() + timeout
    while True:
        row = await conn.fetchrow(DRAIN.replace("%s", "$1"), upto)
        if row["caught_up"]:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"change feed: not caught up within {timeout:g} s (last status {row['status']})")
        await asyncio.sleep(0.02)


def run_forever(settings: Settings) -> None:
    """`python -m app relay`: the relay alone, until interrupted (SIGINT or SIGTERM)."""
    import signal

    relay = ChangeFeedRelay(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    asyncio.run(relay.start())
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    asyncio.run(relay.stop())
