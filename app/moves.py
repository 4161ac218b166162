"""Moving one shop to another partition of a cluster (`python -m app cluster move-shop`,
docs/SCALING.md "Moving a shop").

The proxy routes every call of a shop through booking_proxy.enter_shop(), which holds a
shared advisory lock on the shop for the call. The move:

1. marks the shop `moving` in the proxy's directory (committed: from now on a call of the
   shop fails at once with BK015 shop_moving, retryable), then takes the shop's lock
   exclusively in a transaction it keeps open: calls already past the directory finish
   first, and none starts until the move ends;
2. copies the shop's rows (the shop, its barbers, services, offered services, working
   hours, time off, staff roles, appointments and the idempotency keys of those
   appointments, default buffers and refused attempts) from the source partition to the target, in one transaction there, with
   session_replication_role = replica (no trigger fires: versions and timestamps arrive as
   they are; the exclusion constraint, CHECKs and unique keys still apply), with the shop's
   change-feed events (so the target's relay, reading the copied appointments as inserts,
   finds their events there already and makes none again), and checks the counts;
3. points the directory at the target and clears `moving` in the locked transaction, and
   commits: the waiting calls go to the target;
4. deletes the shop's rows from the source (same session settings).

A failure before 3 rolls the target's copy back and clears `moving`: the shop stays where it
was, nothing lost. A failure in 4 leaves unreachable rows on the source (nothing routes
there); a later move of the shop back to it deletes them first.
The events get new ids on the target (each partition numbers its feed): a stream of the
shop's barbers that reconnects with a Last-Event-ID from the source may see events again
or miss some of the move's moment; ids stay increasing on each partition.
Writers connected to a partition directly (not through the proxy) are not fenced: they
must not write a shop while it moves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from psycopg import sql

from app.migrate import libpq_url

log = logging.getLogger("booking.moves")

# (table, rows of shop %(shop)s), in an order that satisfies the foreign keys. Ids carry
# their shop (booking.shop_of_id), so a partition's rows of a shop are found without its
# barbers (leftovers of an earlier move included).
SHOP_ROWS = (
    ("shops", "id = %(shop)s"),
    ("barbers", "shop_id = %(shop)s"),
    ("services", "shop_id = %(shop)s"),
    ("barber_services", "booking.shop_of_id(barber_id) = %(shop)s"),
    ("working_hours", "booking.shop_of_id(barber_id) = %(shop)s"),
    ("time_off", "booking.shop_of_id(barber_id) = %(shop)s"),
    ("staff", "shop_id = %(shop)s OR booking.shop_of_id(barber_id) = %(shop)s"),
    ("appointments", "shop_id = %(shop)s"),
    ("idempotency_keys", "booking.shop_of_id(appointment_id) = %(shop)s"),
    ("calendar_keys", "booking.shop_of_id(barber_id) = %(shop)s"),  # feed keys: (barber_id, id) is their key
    ("webhook_subscriptions", "shop_id = %(shop)s"),  # ids carry the shop
    ("webhook_deliveries", "shop_id = %(shop)s"),  # key (webhook_id, message_id): the same everywhere
    ("barber_service_buffers", "booking.shop_of_id(barber_id) = %(shop)s"),  # default buffers (issue 18)
    ("booking_attempts", "shop_id = %(shop)s"),  # refused attempts: new ids on the target
    # With new ids on the target (ids of the feed are the partition's own): the target's
    # relay decodes the copied appointments as inserts, and drops the events they would
    # make because these rows hold them already (unique (appointment_id, version, barber_id)).
    ("appointment_events", "booking.shop_of_id(barber_id) = %(shop)s"),
)


@dataclass(frozen=True)
class Moved:
    shop: int
    source: int
    target: int
    rows: int


class MoveError(Exception):
    pass


def _columns(conn, table: str) -> list[str]:
    """The columns a row is written with: all but the generated ones (and an identity
    GENERATED ALWAYS: the target numbers those rows itself)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped AND attgenerated = '' AND attidentity <> 'a' ORDER BY attnum",
            (f"booking.{table}",),
        ).fetchall()
    ]


def _as_mover(conn) -> None:
    """No trigger fires for what this session writes (the rows arrive as they were)."""
    conn.execute("SET session_replication_role = replica")


def move_shop(
    proxy_url: str, shop: int, target: int, partition_urls: dict[int, str], *, lock_timeout: str = "30s"
) -> Moved:
    if target not in partition_urls:
        raise MoveError(f"no partition {target} (partitions: {sorted(partition_urls)})")
    with psycopg.connect(libpq_url(proxy_url)) as proxy:
        row = proxy.execute(
            "UPDATE booking_proxy.shop_directory SET moving = true WHERE shop_id = %s AND NOT moving RETURNING partition",
            (shop,),
        ).fetchone()
        if row is None:
            proxy.rollback()
            raise MoveError(f"shop {shop} is not in the directory, or is being moved already")
        source = row[0]
        if source == target:
            proxy.rollback()
            raise MoveError(f"shop {shop} is on partition {target} already")
        proxy.commit()  # calls of the shop now fail with BK015 instead of starting
        moved = 0
        try:
            proxy.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
            proxy.execute("SELECT pg_advisory_xact_lock(booking.lock_namespace('shop'), %s)", (shop,))
            with (
                psycopg.connect(libpq_url(partition_urls[source])) as src,
                psycopg.connect(libpq_url(partition_urls[target])) as dst,
            ):
                _as_mover(dst)
                # Rows of the shop already there are leftovers of an earlier move away whose
                # last step failed: nothing routes to them (the directory names the source).
                _delete(dst, shop, commit=False)
                for table, where in SHOP_ROWS:
                    columns = _columns(src, table)
                    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
                    query = sql.SQL("SELECT {} FROM booking.{} WHERE ").format(cols, sql.Identifier(table)) + sql.SQL(
                        where
                    )
                    data = bytearray()  # COPY's text form, passed through unparsed
                    with src.cursor().copy(sql.SQL("COPY ({}) TO STDOUT").format(query), {"shop": shop}) as out:
                        for block in out:
                            data += block
                    expected = src.execute(
                        sql.SQL("SELECT count(*) FROM booking.{} WHERE ").format(sql.Identifier(table))
                        + sql.SQL(where),
                        {"shop": shop},
                    ).fetchone()[0]
                    if not expected:
                        continue
                    with dst.cursor().copy(
                        sql.SQL("COPY booking.{} ({}) FROM STDIN").format(sql.Identifier(table), cols)
                    ) as copy:
                        copy.write(bytes(data))
                    count = dst.execute(
                        sql.SQL("SELECT count(*) FROM booking.{} WHERE ").format(sql.Identifier(table))
                        + sql.SQL(where),
                        {"shop": shop},
                    ).fetchone()[0]
                    if count != expected:
                        raise MoveError(f"{table}: {expected} rows on the source, {count} on the target")
                    rows = range(count)
                    moved += len(rows)
                dst.commit()
                try:
                    proxy.execute(
                        "UPDATE booking_proxy.shop_directory SET partition = %s, moving = false WHERE shop_id = %s",
                        (target, shop),
                    )
                    proxy.commit()
                except BaseException:
                    _delete(dst, shop)  # the directory still says source: undo the copy
                    raise
                _as_mover(src)
                _delete(src, shop)
        except BaseException:
            proxy.rollback()
            with psycopg.connect(libpq_url(proxy_url), autocommit=True) as again:
                again.execute(
                    "UPDATE booking_proxy.shop_directory SET moving = false WHERE shop_id = %s AND partition = %s",
                    (shop, source),
                )
            raise
    log.info("shop moved", extra={"shop": shop, "source": source, "target": target, "rows": moved})
    return Moved(shop, source, target, moved)


def _delete(conn, shop: int, *, commit: bool = True) -> int:
    """Every row of the shop on this partition, in one transaction (as a mover)."""
    deleted = 0
    for table, where in reversed(SHOP_ROWS):
        cur = conn.execute(
            sql.SQL("DELETE FROM booking.{} WHERE ").format(sql.Identifier(table)) + sql.SQL(where), {"shop": shop}
        )
        deleted += cur.rowcount
    if commit:
        conn.commit()
    return deleted
