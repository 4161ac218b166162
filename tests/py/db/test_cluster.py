"""The function API over a 2-partition cluster (docs/SCALING.md), against real servers: the
proxy answers as one database does (names, parameters, result columns, SQLSTATEs, messages
and DETAILs), every shop's rows live on one partition, a partition that is down fails only
its own shops (BK016) and loses nothing, and a shop moved under load loses and duplicates
nothing. The concurrency and idempotency proofs run on the cluster too
(test_sql_concurrency.py, parametrised by the `engine` fixture)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections import Counter
from datetime import timedelta

import asyncpg
import psycopg
import pytest

from app.migrate import libpq_url
from app.paths import ROOT
from tests.py.support import app_cli, at, future_day

# Every function of contract sections 2 and 6, and the ones the service calls.
CONTRACT_FUNCTIONS = (
    "book_appointment",
    "update_appointment",
    "cancel_appointment",
    "create_shop",
    "create_barber",
    "create_service",
    "set_working_hours",
    "add_time_off",
    "get_appointment",
    "local_start",
    "free_slots",
    "events_since",
    "latest_event_id",
    "list_barbers",
    "list_services",
    "get_barber",
)

SIGNATURES = """
SELECT p.proname::text, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)
FROM pg_proc p WHERE p.pronamespace = 'booking'::regnamespace AND p.proname = ANY($1::text[])
ORDER BY 1, 2
"""


@pytest.fixture
async def cluster(test_cluster):
    await test_cluster.reset()
    return test_cluster


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url)


def shop_of(barber_or_appointment_id: int) -> int:
    return barber_or_appointment_id >> 40 or 1


async def make_shop(proxy: asyncpg.Connection, name: str) -> tuple[int, int, int]:
    """(shop, its partition, a barber of it), with service Cut (30 min)."""
    shop = await proxy.fetchval("SELECT id FROM booking.create_shop($1, 'UTC')", name)
    partition = None
    if await proxy.fetchval("SELECT to_regclass('booking_proxy.shop_directory') IS NOT NULL"):
        partition = await proxy.fetchval("SELECT partition FROM booking_proxy.shop_directory WHERE shop_id = $1", shop)
    barber = await proxy.fetchval("SELECT id FROM booking.create_barber($1, 'Ann')", shop)
    await proxy.execute("SELECT booking.create_service($1, 'Cut', 30)", shop)
    return shop, partition, barber


# ------------------------------------------------------------------ the command line


def test_cluster_status_prints_one_line_per_node_as_the_contract_says(cluster):
    done = subprocess.run(
        [".venv/bin/python", "-m", "app", "cluster", "status", "--dir", str(cluster.dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line.split(" ") for line in done.stdout.splitlines()]
    assert [line[0] for line in lines] == ["proxy", "partition", "partition"]
    assert lines[0] == ["proxy", cluster.proxy_url, str(cluster.dir / "proxy")]
    for k, line in enumerate(lines[1:]):
        assert line == ["partition", str(k), cluster.partition_urls[k], str(cluster.dir / f"partition-{k}")]
    # `up` again leaves running nodes alone and prints the same lines.
    again = subprocess.run(
        [".venv/bin/python", "-m", "app", "cluster", "up", "--dir", str(cluster.dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert [line for line in again.stdout.splitlines() if line.startswith(("proxy ", "partition "))] == [
        " ".join(line) for line in lines
    ]


def test_cluster_up_refuses_a_partition_count_that_is_not_a_power_of_two(tmp_path):
    done = subprocess.run(
        [".venv/bin/python", "-m", "app", "cluster", "up", "--dir", str(tmp_path / "c"), "--partitions", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "power of two" in done.stderr
    assert not (tmp_path / "c" / "proxy").exists()


# ------------------------------------------------------------- the same API, the same answers


async def test_the_proxy_has_every_function_with_the_same_parameters_and_result(cluster, pool):
    one = [tuple(r) for r in await pool.fetch(SIGNATURES, list(CONTRACT_FUNCTIONS))]
    proxy = await connect(cluster.proxy_url)
    try:
        routed = [tuple(r) for r in await proxy.fetch(SIGNATURES, list(CONTRACT_FUNCTIONS))]
    finally:
        await proxy.close()
    assert routed == one
    assert {r[0] for r in one} == set(CONTRACT_FUNCTIONS)


def _shape(text: str | None) -> str | None:
    """A message or DETAIL with its ids and instants blanked (they differ between engines)."""
    if text is None:
        return None
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:]+Z|\d+", "#", text)


async def _refusals(conn: asyncpg.Connection, barber: int, shop: int) -> list[tuple]:
    """The same bad calls, on whichever engine `conn` reaches: (SQLSTATE, message, DETAIL shape)."""
    day = future_day()
    booked = await conn.fetchrow("SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", barber, at(day, 10))
    await conn.execute("SET booking.lock_timeout = '300ms'")
    calls = [
        ("SELECT * FROM booking.book_appointment($1, 8, 'Cut', $2)", barber, at(day, 10, 15)),  # 23P01
        ("SELECT * FROM booking.book_appointment($1, 8, 'Nope', $2)", barber, at(day, 12)),  # BK004
        ("SELECT * FROM booking.book_appointment($1, 8, 'Cut', $2, p_shop_id => $3)", barber + 999, at(day, 12), shop),
        ("SELECT * FROM booking.book_appointment($1, 8, 'Cut', now() - interval '1 day')", barber),  # BK005
        ("SELECT * FROM booking.book_appointment($1, 8, 'Cut', $2, -1)", barber, at(day, 12)),  # BK008
        ("SELECT * FROM booking.book_appointment($1, 8, 'Cut', $2, p_idempotency_key => 'k1')", barber, at(day, 13)),
        ("SELECT * FROM booking.book_appointment($1, 8, 'Cut', $2, p_idempotency_key => 'k1')", barber, at(day, 14)),
        ("SELECT * FROM booking.update_appointment($1, 7, '{}'::jsonb, 5)", booked["id"]),  # BK001
        ("SELECT * FROM booking.update_appointment($1, 7, '{\"colour\": 1}'::jsonb)", booked["id"]),  # BK009
        ('SELECT * FROM booking.update_appointment($1, 99, \'{"notes": "x"}\'::jsonb)', booked["id"]),  # BK011
        ("SELECT * FROM booking.cancel_appointment($1, 7)", booked["id"] + 4096),  # BK011
        ("SELECT * FROM booking.create_barber($1, '  ')", shop),  # BK008
        ("SELECT * FROM booking.create_barber($1, 'Zed', p_actor_user_id => 4242)", shop),  # BK012
        ("SELECT * FROM booking.create_service($1, 'Cut', 30)", shop),  # 23505 duplicate name
        ("SELECT * FROM booking.set_working_hours($1, '[{\"weekday\": 9}]'::jsonb)", barber),  # BK008
        ("SELECT * FROM booking.add_time_off($1, $2, $3)", barber, at(day, 9), at(day, 11)),  # covers 10:00? allowed
        ("SELECT * FROM booking.free_slots($1, $2::date, 'Cut')", barber, day),
    ]
    out = []
    for sql, *args in calls:
        try:
            await conn.fetch(sql, *args)
            out.append(("ok", None, None))
        except asyncpg.PostgresError as e:
            out.append((e.sqlstate, _shape(e.args[0]), _shape(e.detail)))
    return out


async def test_refusals_through_the_proxy_are_the_ones_of_one_database(cluster, database_url, clean_db):
    results = {}
    for name, url in (("one database", database_url), ("proxy", cluster.proxy_url)):
        conn = await connect(url)
        try:
            shop, _, barber = await make_shop(conn, "Refusals")
            results[name] = await _refusals(conn, barber, shop)
        finally:
            await conn.close()
    one, routed = results["one database"], results["proxy"]
    assert routed == one
    assert {code for code, _, _ in one} >= {"23P01", "BK001", "BK002", "BK003", "BK004", "BK005", "BK008", "BK011"}
    # No PL/Proxy prefix reaches a caller.
    assert not any("REMOTE" in (m or "") or "Remote" in (d or "") for _, m, d in routed)


# ------------------------------------------------------------------ where rows live


async def test_every_shops_rows_live_on_its_directorys_partition_and_nowhere_else(cluster):
    proxy = await connect(cluster.proxy_url)
    try:
        shops = [await make_shop(proxy, f"Shop {i}") for i in range(4)]
        day = future_day()
        for shop, _, barber in shops:
            await proxy.fetch("SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", barber, at(day, 10))
            await proxy.fetch(
                "SELECT * FROM booking.book_appointment(NULL, 8, 'Cut', $1, p_shop_id => $2)", at(day, 11), shop
            )
        directory = dict(await proxy.fetch("SELECT shop_id, partition FROM booking_proxy.shop_directory"))
    finally:
        await proxy.close()
    assert sorted(Counter(directory[s] for s, _, _ in shops).values()) == [2, 2]  # placed evenly
    await _assert_rows_where_the_directory_says(cluster, directory)


async def _assert_rows_where_the_directory_says(cluster, directory: dict[int, int]) -> None:
    for k, url in cluster.partition_urls.items():
        conn = await connect(url)
        try:
            for table in ("shops", "barbers", "services", "appointments"):
                column = "id" if table == "shops" else "shop_id"
                found = {r[0] for r in await conn.fetch(f"SELECT DISTINCT {column} FROM booking.{table}")}
                assert all(directory.get(s) == k for s in found), (k, table, found, directory)
            # ids carry their shop
            assert not await conn.fetchval(
                "SELECT count(*) FROM booking.appointments WHERE booking.shop_of_id(id) <> shop_id"
                " OR booking.shop_of_id(barber_id) <> shop_id"
            )
        finally:
            await conn.close()


# ------------------------------------------------------------------ a partition down


async def test_a_partition_down_fails_only_its_shops_with_bk016_and_loses_nothing(cluster):
    from harness.cluster import LocalCluster as Node

    proxy = await connect(cluster.proxy_url)
    node = Node(cluster.dir / "partition-1")
    try:
        near, near_part, near_barber = await make_shop(proxy, "Near")  # partition 1
        far, far_part, far_barber = await make_shop(proxy, "Far")  # partition 0
        assert (near_part, far_part) == (1, 0)
        day = future_day()
        kept = await proxy.fetchrow("SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", near_barber, at(day, 9))
        node.crash()
        with pytest.raises(asyncpg.PostgresError) as refused:
            await proxy.fetch("SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", near_barber, at(day, 10))
        assert refused.value.sqlstate == "BK016"
        assert refused.value.args[0] == "The database partition of this shop is not available; retry shortly"
        assert refused.value.detail.startswith("Partition 1 did not answer")
        # The other partition's shops keep booking.
        other = await proxy.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", far_barber, at(day, 10)
        )
        assert other["shop_id"] == far
        node.start()
        # Back: its shops resume, with what was acknowledged before the crash.
        again = await proxy.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", near_barber, at(day, 10)
        )
        assert again["shop_id"] == near
        seen = await proxy.fetchrow("SELECT * FROM booking.get_appointment($1, 7)", kept["id"])
        assert seen["id"] == kept["id"] and seen["version"] == 1
    finally:
        node.start()
        await proxy.close()


# ------------------------------------------------------------------ moving a shop


async def test_a_shop_moved_under_load_loses_and_duplicates_nothing(cluster):
    proxy = await connect(cluster.proxy_url)
    try:
        shop, source, barber = await make_shop(proxy, "Moving")
        second = await proxy.fetchval("SELECT id FROM booking.create_barber($1, 'Bo')", shop)
    finally:
        await proxy.close()
    target = 1 - source
    day = future_day()
    acknowledged: dict[int, tuple] = {}
    refused: Counter = Counter()
    stop = asyncio.Event()

    async def client(n: int) -> None:
        conn = await connect(cluster.proxy_url)
        await conn.execute("SET booking.lock_timeout = '2s'")
        try:
            i = 0
            while not stop.is_set() and i < 400:
                start = at(day, 8) + timedelta(minutes=30 * (i % 24)) + timedelta(days=n + 7 * (i // 24))
                key = f"move-{n}-{i}"
                try:
                    row = await conn.fetchrow(
                        "SELECT * FROM booking.book_appointment($1, $2, 'Cut', $3, p_idempotency_key => $4)",
                        (barber, second)[n % 2],
                        100 + n,
                        start,
                        key,
                    )
                    acknowledged[row["id"]] = (key, row["version"])
                    i += 1
                except asyncpg.PostgresError as e:
                    refused[e.sqlstate] += 1
                    if e.sqlstate not in ("BK015", "55P03"):
                        raise
                    await asyncio.sleep(0.01)  # retried with the same key: never booked twice
        finally:
            await conn.close()

    clients = [asyncio.create_task(client(n)) for n in range(4)]
    await asyncio.sleep(0.5)
    moved = await asyncio.to_thread(
        app_cli,
        cluster.proxy_url,
        "cluster",
        "move-shop",
        "--dir",
        str(cluster.dir),
        "--shop",
        str(shop),
        "--to",
        str(target),
    )
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*clients)
    assert moved.returncode == 0, moved.stderr
    assert f"shop {shop}: partition {source} -> {target}" in moved.stdout

    proxy = await connect(cluster.proxy_url)
    try:
        directory = dict(await proxy.fetch("SELECT shop_id, partition FROM booking_proxy.shop_directory"))
    finally:
        await proxy.close()
    assert directory[shop] == target
    await _assert_rows_where_the_directory_says(cluster, directory)
    conn = await connect(cluster.partition_urls[target])
    try:
        rows = {
            r["id"]: r
            for r in await conn.fetch("SELECT id, version FROM booking.appointments WHERE shop_id = $1", shop)
        }
        keys = await conn.fetchval("SELECT count(*) FROM booking.idempotency_keys")
        events = await conn.fetch(
            "SELECT appointment_id, count(*) FROM booking.appointment_events GROUP BY 1 HAVING count(*) > 1"
        )
    finally:
        await conn.close()
    assert set(acknowledged) <= set(rows), "an acknowledged booking was lost in the move"
    assert len(rows) == len(acknowledged) == keys, (len(rows), len(acknowledged), keys)  # nothing twice
    assert not events, f"events made twice: {events}"


def test_move_shop_refuses_an_unknown_partition_and_a_shop_already_there(cluster):
    moved = app_cli(cluster.proxy_url, "cluster", "move-shop", "--dir", str(cluster.dir), "--shop", "1", "--to", "0")
    assert moved.returncode != 0 and "on partition 0 already" in moved.stderr
    moved = app_cli(cluster.proxy_url, "cluster", "move-shop", "--dir", str(cluster.dir), "--shop", "1", "--to", "7")
    assert moved.returncode != 0 and "no partition 7" in moved.stderr
    with psycopg.connect(libpq_url(cluster.proxy_url)) as conn:
        assert conn.execute(
            "SELECT partition, moving FROM booking_proxy.shop_directory WHERE shop_id = 1"
        ).fetchone() == (
            0,
            False,
        )


# ------------------------------------------------------------------ staff roles and tokens


async def test_a_token_made_through_the_proxy_authenticates_there_and_its_role_lives_with_its_shop(cluster):
    proxy = await connect(cluster.proxy_url)
    try:
        shop, partition, barber = await make_shop(proxy, "Tokens")
        made = app_cli(
            cluster.proxy_url, "token", "create", "--user-id", "77", "--role", "barber", "--barber-id", str(barber)
        )
        assert made.returncode == 0, made.stderr
        from app.tokens import hash_token

        who = await proxy.fetchrow("SELECT * FROM booking.authenticate_token($1)", hash_token(made.stdout.split()[-1]))
        assert (who["user_id"], who["role"], who["barber_id"]) == (77, "barber", barber)
        # A barber of another shop is refused where that shop would live.
        bad = app_cli(
            cluster.proxy_url, "token", "create", "--user-id", "78", "--role", "barber", "--barber-id", str(barber + 1)
        )
        assert bad.returncode != 0 and "BK003" in bad.stderr
    finally:
        await proxy.close()
    for k, url in cluster.partition_urls.items():
        conn = await connect(url)
        try:
            roles = await conn.fetch("SELECT user_id, role FROM booking.staff WHERE user_id = 77")
        finally:
            await conn.close()
        assert [tuple(r) for r in roles] == ([(77, "barber")] if k == partition else [])


async def test_a_barber_moved_to_a_shop_on_another_partition_keeps_no_role_on_the_first(cluster):
    proxy = await connect(cluster.proxy_url)
    try:
        a, part_a, barber_a = await make_shop(proxy, "A")
        b, part_b, barber_b = await make_shop(proxy, "B")
        assert part_a != part_b
        for barber in (barber_a, barber_b):
            made = app_cli(
                cluster.proxy_url, "token", "create", "--user-id", "79", "--role", "barber", "--barber-id", str(barber)
            )
            assert made.returncode == 0, made.stderr
        # As that user, acting as a barber, through the proxy: nothing of shop A is theirs now.
        day = future_day()
        booked = await proxy.fetchrow("SELECT * FROM booking.book_appointment($1, 7, 'Cut', $2)", barber_a, at(day, 10))
        await proxy.execute("SET booking.acting_role = 'barber'")
        assert await proxy.fetchrow("SELECT * FROM booking.get_appointment($1, 79)", booked["id"]) is None
    finally:
        await proxy.close()
    conn = await connect(cluster.partition_urls[part_a])
    try:
        assert not await conn.fetchval("SELECT count(*) FROM booking.staff WHERE user_id = 79")
    finally:
        await conn.close()
