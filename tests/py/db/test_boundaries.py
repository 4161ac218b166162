"""The boundary corpus, SQL layer: every function granted to the application roles, and
every session setting they read, called with the extremes of each argument's type.

Each call runs as booking_app (as an internal service would, through booking_client's
grants) and must, within 2 seconds, either succeed or fail with a SQLSTATE of the error
catalogue (sql/errors.csv). A raw PostgreSQL error (22008 out of range, 22007, 22P02,
23514 with the failing row, 53200 out of shared memory...) or a call that runs on is a
defect of the engine: the review that found the endless slot search (issue 10) found it
exactly at these edges. The values are valid values of the parameter's SQL type, so any
error comes from the function, not from the caller's cast.
"""

from __future__ import annotations

import asyncio
import time as _time

import asyncpg
import pytest

from app.errors import CATALOGUE

DEADLINE = 2.0

BIGINTS = ["NULL", "0", "-1", "-9223372036854775808", "9223372036854775807"]
INTS = ["NULL", "-2147483648", "-1", "0", "1440", "1441", "2147483647"]
TEXTS = ["NULL", "''", "' '", "repeat('x', 201)", "repeat('é', 70000)", "E'tab\\there'", "'Haircut'"]
INSTANTS = [
    "NULL",
    "'infinity'",
    "'-infinity'",
    "'4713-01-01 00:00:00+00 BC'",
    "'0001-01-01 00:00:00+00'",
    "'9999-12-30 23:59:59+00'",
    "'9999-12-31 00:00:00+00'",
    "'294276-12-31 23:59:59+00'",
    "now() - interval '1 second'",
    "now() + interval '10 years'",
]
DATES = [
    "NULL",
    "'infinity'",
    "'-infinity'",
    "'4713-01-01 BC'",
    "'0001-01-01'",
    "'2030-02-28'",
    "'9999-12-31'",
    "'10000-01-01'",
    "'5874897-12-31'",
]
DOUBLES = ["NULL", "0", "-1", "0.5", "1e308", "'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8"]
URLS = [
    *TEXTS,
    "'http://' || repeat('a', 3000)",
    "'https://example.com/' || repeat('é', 1000)",
    "'http://[::1]:99999/'",
]
EVENT_LISTS = [
    "NULL",
    "ARRAY[]::text[]",
    "ARRAY[NULL]::text[]",
    "ARRAY['appointment.booked', 'appointment.booked']",
    "ARRAY['x']",
    "array_fill('appointment.booked'::text, ARRAY[100000])",
]
TIMES = ["NULL", "'00:00'", "'23:59:59.999999'", "'24:00'"]
BYTEAS = ["NULL", "''::bytea", "decode(repeat('ab', 100000), 'hex')", "sha256('x')"]
# Values of set_working_hours()'s p_hours.
HOURS = [
    "NULL",
    "'null'::jsonb",
    "'{}'::jsonb",
    "'[1]'::jsonb",
    "'[[]]'::jsonb",
    *(
        f'$j$[{{"weekday": {w}, "opens_at": {o}, "closes_at": {c}}}]$j$::jsonb'
        for w, o, c in [
            ("1", '"09:00"', '"17:00"'),
            ("0", '"09:00"', '"17:00"'),
            ("8", '"09:00"', '"17:00"'),
            ("1e300", '"09:00"', '"17:00"'),
            ("-1", '"09:00"', '"17:00"'),
            ("1.5", '"09:00"', '"17:00"'),
            ('"1"', '"09:00"', '"17:00"'),
            ("1", '"24:00"', '"17:00"'),
            ("1", '"09:00"', '"24:00"'),
            ("1", '"infinity"', '"17:00"'),
            ("1", '"09:00"', '"09:00"'),
            ("1", "null", '"17:00"'),
            ("1", '"' + "9" * 5000 + '"', '"17:00"'),
        ]
    ),
    "(SELECT jsonb_agg(jsonb_build_object('weekday', 1, 'opens_at', '09:00', 'closes_at', '10:00'))"
    " FROM generate_series(1, 101))",
    "(SELECT jsonb_agg(jsonb_build_object('weekday', 1, 'opens_at', '09:00', 'closes_at', '10:00'))"
    " FROM generate_series(1, 100000))",
]
# Values of each key of update_appointment()'s p_changes, as JSON.
CHANGE_VALUES = {
    "booking_date": [
        '"0001-01-01"',
        '"9999-12-31"',
        '"infinity"',
        '"10000-01-01"',
        '"2030-02-30"',
        '"-0001-01-01"',
        '"2030-1-1"',
        "20300101",
        "null",
    ],
    "booking_time": [
        '"24:00"',
        '"23:59:60"',
        '"25:00"',
        '"00:00"',
        '"23:59"',
        '"9:00"',
        '"10:00:00.5"',
        "1000",
        "null",
    ],
    "start_time": [
        '"infinity"',
        '"9999-12-31T00:00:00Z"',
        '"9999-12-30T23:59:00Z"',
        '"0001-01-01T00:00:00Z"',
        '"294276-12-31T00:00:00Z"',
        '"2030-06-03T10:00:00"',
        '"2030-06-03T10:00:00+25:00"',
        "0",
        "null",
    ],
    "barber_id": ["0", "-1", "9223372036854775807", "9223372036854775808", "1e400", "1.5", '"1"', "null", "true"],
    "buffer_time_before": ["-1", "1441", "2147483648", "1e308", "0.5", '"15"', "null"],
    "buffer_time_after": ["-2147483649", "1440", "99999999999999999999999", "null"],
    # ("\u0000" is not here: jsonb itself refuses it, in the caller's cast.)
    "notes": ['""', f'"{"n" * 2001}"', "null", "[]", "{}"],
    "status": ['""', '"CANCELLED"', '"cancelled "', "null", "1"],
}
SETTINGS = {
    "booking.lock_timeout": [
        "0",
        "-1",
        "1us",
        "2147483647ms",
        "2147483648ms",
        "99999999999999999999s",
        "1d",
        "soon",
        "",
        "5 s",
        "1e3ms",
    ],
    "booking.application_checks": ["maybe", "", "ON", "0", "yes please"],
    "booking.idempotency_key_ttl": [
        "forever",
        "300000 years",
        "0 hours",
        "3650 days",
        "3651 days",
        "1e9 hours",
        "-5 hours",
        "24",
        "",
    ],
}


@pytest.fixture
async def world(clean_db):
    """One barber with working hours (Paris), one without (UTC), a service, a bookable
    appointment of user 1001, a token; ids returned for the calls."""
    await clean_db.execute("""
        INSERT INTO booking.barbers (id, name, timezone) VALUES (1, 'Hours', 'Europe/Paris'), (2, 'Free', 'UTC');
        INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)
            SELECT 1, d, '09:00', '18:00' FROM generate_series(1, 7) d;
        INSERT INTO booking.services (name, duration_minutes) VALUES ('Haircut', 30);
        INSERT INTO booking.staff (user_id, role) VALUES (3001, 'admin');
        SELECT setval(pg_get_serial_sequence('booking.barbers', 'id'), 2);  -- past the ids given by hand
        SELECT booking.create_webhook(1, 'https://example.com/hook');  -- webhook 1
    """)
    appointment = await clean_db.fetchval(
        "SELECT id FROM booking.book_appointment(2, 1001, 'Haircut', date_trunc('day', now()) + interval '40 days 10 hours')"
    )
    return {"appointment": appointment}


@pytest.fixture
async def app_conn(database_url):
    conn = await asyncpg.connect(database_url, server_settings={"role": "booking_app", "statement_timeout": "10s"})
    yield conn
    await conn.close()


async def judged(conn: asyncpg.Connection, sql: str) -> str:
    """Run sql (in a transaction rolled back afterwards); 'ok' or the SQLSTATE. Fails the
    test on a slow call or on a SQLSTATE outside the catalogue."""
    tx = conn.transaction()
    await tx.start()
    started = _time.monotonic()
    try:
        # Counted as whole rows (so every column is computed), not fetched: what matters is
        # that the function answers (a result beyond Python's datetime range is the
        # client's limit, not the engine's).
        await asyncio.wait_for(conn.fetchval(f"SELECT count(answer.*) FROM ({sql}) AS answer"), timeout=DEADLINE * 2)
        outcome = "ok"
    except asyncpg.PostgresError as e:
        outcome = e.sqlstate
        assert e.sqlstate in CATALOGUE, f"{sql[:300]}\n-> raw {e.sqlstate}: {e} / {getattr(e, 'detail', None)}"
        assert len(getattr(e, "detail", None) or "") < 1000, f"{sql[:200]}: the DETAIL echoes too much"
    finally:
        elapsed = _time.monotonic() - started
        await tx.rollback()
    assert elapsed < DEADLINE, f"{sql[:300]} took {elapsed:.2f} s"
    return outcome


def calls(function: str, defaults: list[str], domains: list[list[str]]):
    """One call per (argument, extreme value), the other arguments at their defaults."""
    for i, domain in enumerate(domains):
        for value in domain:
            args = list(defaults)
            args[i] = value
            yield f"SELECT * FROM booking.{function}({', '.join(args)})"


BOOK_DEFAULTS = ["2", "1001", "'Haircut'", "now() + interval '41 days'", "0", "0", "NULL", "NULL"]
CASES = {
    "book_appointment": list(
        calls(
            "book_appointment",
            BOOK_DEFAULTS,
            [
                ["1", "NULL", *BIGINTS],
                BIGINTS,
                TEXTS,
                INSTANTS,
                INTS,
                INTS,
                [*TEXTS, "repeat('n', 2001)"],
                [*TEXTS, "repeat('k', 200)", "'clé'"],
            ],
        )
    ),
    "book_appointment any barber": list(
        calls(
            "book_appointment",
            ["NULL", *BOOK_DEFAULTS[1:], "NULL"],
            [[], [], TEXTS, INSTANTS, INTS, INTS, [], [], [*BIGINTS, "1"]],
        )
    ),
    "book_appointment with a shop": list(
        calls("book_appointment", [*BOOK_DEFAULTS, "1"], [[], [], [], [], [], [], [], [], [*BIGINTS, "1"]])
    ),
    "local_start": list(
        calls(
            "local_start",
            ["1", "'2030-06-03'", "'10:00'", "NULL"],
            [[*BIGINTS, "1", "2"], DATES, TIMES, [*BIGINTS, "1"]],
        )
    ),
    "free_slots": list(
        calls(
            "free_slots",
            ["1", "(now() + interval '3 days')::date", "'Haircut'", "0", "0", "15", "NULL"],
            [[*BIGINTS, "1", "2"], DATES, TEXTS, INTS, INTS, [*INTS, "1", "7"], [*BIGINTS, "1"]],
        )
    ),
    # The shop operations (issue 14), as a shop's admin (3001) and, with a NULL actor, as
    # the HTTP service's role, which is refused (BK012).
    "create_barber": list(
        calls(
            "create_barber",
            ["1", "'New barber'", "NULL", "3001"],
            [BIGINTS, TEXTS, [*TEXTS, "'Europe/Paris'", "'Mars/Olympus'"], [*BIGINTS, "1001"]],
        )
    ),
    "create_service": list(
        calls("create_service", ["1", "'New service'", "30", "0", "3001"], [BIGINTS, TEXTS, INTS, INTS, BIGINTS])
    ),
    "set_working_hours": list(
        calls("set_working_hours", ["1", "'[]'::jsonb", "3001"], [[*BIGINTS, "2"], HOURS, BIGINTS])
    ),
    "add_time_off": list(
        calls(
            "add_time_off",
            ["1", "now() + interval '50 days'", "now() + interval '51 days'", "NULL", "3001"],
            [[*BIGINTS, "2"], INSTANTS, INSTANTS, [*TEXTS, "repeat('r', 201)"], BIGINTS],
        )
    ),
    "get_appointment": list(calls("get_appointment", ["{appointment}", "1001"], [BIGINTS, BIGINTS])),
    "cancel_appointment": list(
        calls("cancel_appointment", ["{appointment}", "1001", "NULL"], [BIGINTS, BIGINTS, INTS])
    ),
    "update_appointment": [
        *calls(
            "update_appointment",
            ["{appointment}", "1001", "'{}'::jsonb", "NULL"],
            [
                BIGINTS,
                BIGINTS,
                ["NULL", "'null'::jsonb", "'[]'::jsonb", "'\"x\"'::jsonb", "'{\"id\": 1}'::jsonb"],
                INTS,
            ],
        ),
        *(
            f'SELECT * FROM booking.update_appointment({{appointment}}, 1001, $j${{"{key}": {value}}}$j$::jsonb)'
            for key, values in CHANGE_VALUES.items()
            for value in values
        ),
    ],
    "events_since": list(calls("events_since", ["2", "0"], [BIGINTS, BIGINTS])),
    "latest_event_id": list(calls("latest_event_id", ["2"], [BIGINTS])),
    "authenticate_token": list(calls("authenticate_token", ["sha256('x')"], [BYTEAS])),
    "purges": ["SELECT booking.purge_expired_idempotency_keys()", "SELECT booking.purge_expired_appointment_events()"],
    # Issue 15: holds, series, policies, schedules, the staff API's readers, calendar feeds,
    # and the pickers' readers (issue 14).
    "hold_slot": list(
        calls("hold_slot", BOOK_DEFAULTS, [[*BIGINTS, "1"], BIGINTS, TEXTS, INSTANTS, INTS, INTS, [], []])
    ),
    "confirm_hold": list(calls("confirm_hold", ["{appointment}", "1001"], [BIGINTS, BIGINTS])),
    "book_series": list(
        calls(
            "book_series",
            ["2", "1001", "'Haircut'", "(now() + interval '60 days')::date", "'10:00'", "1", "3"],
            [[*BIGINTS, "1"], BIGINTS, TEXTS, DATES, TIMES, [*INTS, "52", "53"], [*INTS, "100", "101"]],
        )
    ),
    "cancel_following": list(
        calls("cancel_following", ["{appointment}", "1001"], [[*BIGINTS, "{appointment}"], BIGINTS])
    ),
    "set_hold_minutes": list(calls("set_hold_minutes", ["1", "10", "3001"], [BIGINTS, INTS, [*BIGINTS, "1001"]])),
    "set_shop_policy": list(
        calls(
            "set_shop_policy",
            ["1", "0", "NULL", "0", "0", "3001"],
            [BIGINTS, [*INTS, "525600", "525601"], [*INTS, "3650", "3651"], INTS, INTS, [*BIGINTS, "1001"]],
        )
    ),
    "set_service_policy": list(
        calls(
            "set_service_policy",
            ["1", "'Haircut'", "NULL", "NULL", "NULL", "NULL", "3001"],
            [BIGINTS, TEXTS, INTS, INTS, INTS, INTS, BIGINTS],
        )
    ),
    "shop_policy": list(calls("shop_policy", ["1"], [BIGINTS])),
    "effective_policy": list(calls("effective_policy", ["1", "'Haircut'"], [BIGINTS, TEXTS])),
    "list_appointments": list(
        calls(
            "list_appointments",
            ["1001", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "50"],
            [
                BIGINTS,
                BIGINTS,
                INSTANTS,
                INSTANTS,
                [*TEXTS, "'held'", "'expired'"],
                INSTANTS,
                BIGINTS,
                [*INTS, "200", "201"],
            ],
        )
    ),
    "get_working_hours": list(calls("get_working_hours", ["1", "3001"], [[*BIGINTS, "1"], BIGINTS])),
    "list_time_off": list(calls("list_time_off", ["1", "3001", "NULL"], [BIGINTS, BIGINTS, INSTANTS])),
    "set_working_hours with force and version": list(
        calls(
            "set_working_hours", ["1", "'[]'::jsonb", "3001", "false", "NULL"], [[], [], [], ["NULL", "true"], BIGINTS]
        )
    ),
    "add_time_off with force": list(
        calls(
            "add_time_off",
            ["2", "now() + interval '40 days'", "now() + interval '41 days'", "NULL", "3001", "false"],
            [[], [], [], [], [], ["NULL", "true"]],
        )
    ),
    "issue_calendar_key": list(calls("issue_calendar_key", ["1", "sha256('k')", "3001"], [BIGINTS, BYTEAS, BIGINTS])),
    "revoke_calendar_key": list(calls("revoke_calendar_key", ["1", "1", "3001"], [BIGINTS, BIGINTS, BIGINTS])),
    "calendar_feed": list(
        calls(
            "calendar_feed",
            ["2", "3001", "NULL", "NULL", "NULL"],
            [BIGINTS, BIGINTS, BYTEAS, INSTANTS, INSTANTS],
        )
    ),
    "list_barbers": list(calls("list_barbers", ["1"], [BIGINTS])),
    "list_services": list(calls("list_services", ["1"], [BIGINTS])),
    "get_barber": list(calls("get_barber", ["1"], [BIGINTS])),
    "shop_of_id": list(calls("shop_of_id", ["1"], [BIGINTS])),
    "create_webhook": list(
        calls(
            "create_webhook",
            ["1", "'https://example.com/x'", "NULL", "3001"],
            [BIGINTS, URLS, EVENT_LISTS, BIGINTS],
        )
    ),
    "list_webhooks": list(calls("list_webhooks", ["1", "3001"], [BIGINTS, [*BIGINTS, "3001"]])),
    **{
        name: list(calls(name, ["1", "1", "3001"], [BIGINTS, [*BIGINTS, "1"], BIGINTS]))
        for name in ("rotate_webhook_secret", "delete_webhook", "disable_webhook", "send_test_webhook")
    },
    "enable_webhook": list(calls("enable_webhook", ["1", "1", "NULL", "3001"], [BIGINTS, BIGINTS, INSTANTS, BIGINTS])),
    "list_webhook_deliveries": list(
        calls(
            "list_webhook_deliveries",
            ["1", "1", "NULL", "NULL", "100", "3001"],
            [BIGINTS, BIGINTS, TEXTS, INSTANTS, INTS, BIGINTS],
        )
    ),
    "claim_webhook_deliveries": list(
        calls("claim_webhook_deliveries", ["10", "30"], [[*INTS, "10"], [*DOUBLES, "30"]])
    ),
    "finish_webhook_delivery": list(
        calls(
            "finish_webhook_delivery",
            ["1", "'evt_1_1'", "1", "200", "NULL", "5", "3600", "259200"],
            [BIGINTS, TEXTS, INTS, INTS, TEXTS, DOUBLES, DOUBLES, DOUBLES],
        )
    ),
    "webhook_backlog": ["SELECT * FROM booking.webhook_backlog()"],
    "purge_webhook_deliveries": ["SELECT * FROM booking.purge_webhook_deliveries()"],
    # Issue 18: check-in and check-out (finish: of the appointment its first argument starts),
    # the durations and default buffers of a barber, the demand the conflict model reads, a
    # refused attempt recorded.
    "start_appointment": list(
        calls("start_appointment", ["{appointment}", "3001", "NULL"], [BIGINTS, [*BIGINTS, "1001"], INTS])
    ),
    "finish_appointment": list(
        calls(
            "finish_appointment",
            ["(SELECT s.id FROM booking.start_appointment({appointment}, 3001) AS s)", "3001", "NULL"],
            [[*BIGINTS, "{appointment}"], [*BIGINTS, "1001"], INTS],
        )
    ),
    "service_durations": list(
        calls("service_durations", ["2", "3001", "NULL"], [[*BIGINTS, "1"], [*BIGINTS, "1001"], INSTANTS])
    ),
    "set_service_buffers": list(
        calls(
            "set_service_buffers",
            ["2", "'Haircut'", "5", "10", "NULL", "3001"],
            [
                BIGINTS,
                TEXTS,
                INTS,
                INTS,
                [
                    "NULL",
                    "'{}'::jsonb",
                    "'[]'::jsonb",
                    "'null'::jsonb",
                    "(SELECT jsonb_object_agg(g, repeat('x', 100)) FROM generate_series(1, 100) AS g)",
                ],
                [*BIGINTS, "1001"],
            ],
        )
    ),
    "slot_demand": list(calls("slot_demand", ["2", "(now() + interval '3 days')::date"], [[*BIGINTS, "1"], DATES])),
    "record_booking_attempt": list(
        calls(
            "record_booking_attempt",
            ["2", "NULL", "'Haircut'", "now() + interval '3 days'"],
            [[*BIGINTS, "1"], BIGINTS, TEXTS, INSTANTS],
        )
    ),
}
# Granted, and not called here: the change feed's own (the service's relay calls them with
# what the database gave it), the helpers the service's statements compose (with_settings,
# parse_local_*, blocked_interval: see below), and create_shop (booking_client's only).
NOT_IN_THE_CORPUS = {
    "relay_change_feed",
    "open_logical_change_feed",
    "open_outbox_change_feed",
    "change_feed_status",
    "with_settings",
    "parse_local_date",
    "parse_local_time",
    "blocked_interval",
    "create_shop",
}
# Not here: booking.blocked_interval(), granted only so that a role given direct write access
# can compute the generated column; it is the interval's arithmetic, not an entry point, and
# fails only with PostgreSQL's own 22008 for instants no appointment can hold (the table
# refuses starts outside [-infinity, 9999-12-31) with a CHECK).


@pytest.mark.parametrize("function", sorted(CASES))
async def test_every_granted_function_answers_its_extremes_with_the_catalogue(world, app_conn, function):
    outcomes = {}
    for sql in CASES[function]:
        sql = sql.replace("{appointment}", str(world["appointment"]))
        outcomes[sql] = await judged(app_conn, sql)
    # The defaults themselves work (but where the world has nothing to act on: no hold to
    # confirm, no calendar key to revoke).
    assert "ok" in outcomes.values() or function in ("purges", "confirm_hold", "revoke_calendar_key"), outcomes


async def test_the_corpus_calls_every_granted_function(pool):
    """A function granted to the application roles and absent from CASES fails here: the
    corpus grows with the API."""
    granted = {
        r["proname"]
        for r in await pool.fetch(
            "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'booking'::regnamespace"
            " AND (has_function_privilege('booking_app', p.oid, 'EXECUTE')"
            "      OR has_function_privilege('booking_client', p.oid, 'EXECUTE'))"
        )
    }
    called = {name.split(" ")[0] for name in CASES} | {
        "purge_expired_idempotency_keys",
        "purge_expired_appointment_events",
    }
    assert granted - called - NOT_IN_THE_CORPUS == set()


@pytest.mark.parametrize("setting", sorted(SETTINGS))
async def test_every_session_setting_answers_its_extremes_with_the_catalogue(world, app_conn, setting):
    for value in SETTINGS[setting]:
        await app_conn.execute("SELECT set_config($1, $2, false)", setting, value)
        try:
            for sql in (
                f"SELECT * FROM booking.book_appointment({', '.join(BOOK_DEFAULTS[:-1])}, 'key-{len(value)}')",
                f"SELECT * FROM booking.update_appointment({world['appointment']}, 1001, "
                '\'{"booking_time": "11:00"}\')',
            ):
                await judged(app_conn, sql)
        finally:
            await app_conn.execute("SELECT set_config($1, '', false)", setting)


async def test_the_corpus_reaches_the_edges_it_names(world, app_conn):
    """A few answers pinned, so the corpus cannot pass by never reaching the functions."""
    assert await judged(app_conn, "SELECT * FROM booking.free_slots(2, 'infinity', 'Haircut')") == "BK008"
    assert await judged(app_conn, "SELECT * FROM booking.free_slots(2, '9999-12-31', 'Haircut')") == "ok"
    assert await judged(app_conn, "SELECT booking.local_start(1, '2030-06-03', '24:00')") == "BK008"
    assert (
        await judged(
            app_conn,
            f"SELECT * FROM booking.update_appointment({world['appointment']}, 1001, "
            '\'{"booking_date": "9999-12-31"}\')',
        )
        == "BK008"
    )
    await app_conn.execute("SET booking.idempotency_key_ttl = 'forever'")
    assert (
        await judged(app_conn, f"SELECT * FROM booking.book_appointment({', '.join(BOOK_DEFAULTS[:-1])}, 'k')")
        == "BK008"
    )
    await app_conn.execute("RESET booking.idempotency_key_ttl")
