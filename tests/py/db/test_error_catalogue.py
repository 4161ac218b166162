"""The error catalogue (sql/errors.csv), the SQL that raises from it and app.errors cannot drift."""

from __future__ import annotations

import re

import asyncpg
import pytest

from app import errors, gateway
from app.paths import SQL_DIR

RAISE_RE = re.compile(r"booking\.raise_error\(\s*'([a-z0-9_]+)'")


def raised_names() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SQL_DIR.rglob("*.sql")):
        for name in RAISE_RE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(str(path.relative_to(SQL_DIR)))
    return found


def test_catalogue_is_well_formed():
    rows = errors.load_catalogue()
    assert rows, "sql/errors.csv is empty"
    names = [r["name"] for r in rows.values()]
    assert len(names) == len(set(names)), "a name appears twice in sql/errors.csv"
    for state, row in rows.items():
        assert re.fullmatch(r"[0-9A-Z]{5}", state), state
        assert 400 <= row["http_status"] <= 599, row
        assert row["message"].strip(), row


def test_every_raise_error_names_a_catalogue_row():
    unknown = {n: files for n, files in raised_names().items() if n not in errors.BY_NAME}
    assert not unknown, f"booking.raise_error() with names missing from sql/errors.csv: {unknown}"


def test_every_catalogue_row_is_raised_somewhere():
    raised = raised_names()
    unused = sorted(n for n in errors.BY_NAME if n not in raised)
    assert not unused, f"catalogue rows no SQL raises: {unused}"


def test_contract_exceptions_have_their_codes():
    assert errors.BookingConflictError.sqlstate == "23P01"
    assert errors.ConcurrencyError.sqlstate == "BK001"
    assert errors.IdempotencyKeyMismatchError.sqlstate == "BK002"
    assert errors.LockTimeoutError.sqlstate == "55P03"
    for cls in (
        errors.BookingConflictError,
        errors.ConcurrencyError,
        errors.IdempotencyKeyMismatchError,
        errors.LockTimeoutError,
    ):
        assert issubclass(cls, errors.BookingError)
    from app import booking

    for name in ("BookingConflictError", "ConcurrencyError", "LockTimeoutError", "IdempotencyKeyMismatchError"):
        assert getattr(booking, name) is getattr(errors, name)


@pytest.mark.parametrize("sqlstate", sorted(errors.CATALOGUE))
async def test_every_catalogue_code_maps_from_a_real_error(pool, sqlstate):
    row = errors.CATALOGUE[sqlstate]
    with pytest.raises(asyncpg.PostgresError) as info:
        await pool.execute("SELECT booking.raise_error($1, 'some detail', 'some hint')", row["name"])
    assert info.value.sqlstate == sqlstate
    mapped = gateway.translate(info.value)
    assert isinstance(mapped, errors.BookingError)
    assert type(mapped) is errors.ERROR_CLASSES[sqlstate]
    assert (mapped.sqlstate, mapped.name, mapped.http_status, mapped.message) == (
        sqlstate,
        row["name"],
        row["http_status"],
        row["message"],
    )
    assert (mapped.detail, mapped.hint) == ("some detail", "some hint")


@pytest.mark.parametrize(
    "sql, sqlstate",
    [
        ("SELECT '2026-02-30'::date", "22008"),
        ("SELECT '25:00:01'::time", "22008"),
        ("SELECT 'x'::int", "22P02"),
        ("SELECT 99999999999::int", "22003"),
        ("SELECT 'nope'::date", "22007"),
        ('SELECT \'{"a": "\\u0000"}\'::jsonb', "22P05"),
        ("SELECT convert_from('\\x00'::bytea, 'UTF8')", "22021"),
    ],
)
async def test_bad_input_errors_become_422(pool, sql, sqlstate):
    with pytest.raises(asyncpg.PostgresError) as info:
        await pool.execute(sql)
    assert info.value.sqlstate == sqlstate
    mapped = gateway.translate(info.value)
    assert isinstance(mapped, errors.InvalidInputError)
    assert mapped.http_status == 422 and mapped.code == sqlstate


async def test_an_internal_fault_is_not_mapped(pool):
    with pytest.raises(asyncpg.PostgresError) as info:
        await pool.execute("SELECT * FROM booking.no_such_table")
    assert gateway.translate(info.value) is info.value  # a real fault stays itself: a logged 500


def test_conflict_detail_is_parsed():
    trig = errors.BookingConflictError(detail="Appointment 17 blocks 2026-11-26T09:45:00Z to 2026-11-26T10:45:00Z.")
    assert trig.extra() == {
        "conflicting_appointment_id": 17,
        "conflict_start": "2026-11-26T09:45:00Z",
        "conflict_end": "2026-11-26T10:45:00Z",
    }
    cons = errors.BookingConflictError(
        detail='Key (barber_id, blocked_during)=(1, ["2026-11-26 10:00:00+00","2026-11-26 10:30:00+00")) '
        'conflicts with existing key (barber_id, blocked_during)=(1, ["2026-11-26 09:45:00+00",'
        '"2026-11-26 10:45:00+00")).'
    )
    assert cons.source == "constraint"
    assert cons.extra() == {"conflict_start": "2026-11-26T09:45:00Z", "conflict_end": "2026-11-26T10:45:00Z"}


def test_every_catalogue_row_has_one_written_out_class():
    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.CatalogueError) and c is not errors.CatalogueError
    ]
    assert sorted(c.sqlstate for c in classes) == sorted(errors.CATALOGUE)
    for cls in classes:
        assert errors.ERROR_CLASSES[cls.sqlstate] is cls
        assert (cls.name, cls.http_status, cls.default_message) == (
            errors.CATALOGUE[cls.sqlstate]["name"],
            errors.CATALOGUE[cls.sqlstate]["http_status"],
            errors.CATALOGUE[cls.sqlstate]["message"],
        )


@pytest.mark.parametrize(
    "sqlstate, transient",
    [
        ("40001", True),
        ("40P01", True),
        ("08006", True),
        ("57P01", True),
        ("23P01", False),
        ("BK001", False),
        ("55P03", False),
        ("57014", False),
        ("53400", False),
        ("22008", False),
    ],
)
def test_the_gateway_alone_decides_what_is_transient(sqlstate, transient):
    exc = asyncpg.PostgresError.new({"C": sqlstate, "M": "x", "S": "ERROR"})
    assert gateway.is_transient(exc) is transient
    assert gateway.is_transient(ConnectionResetError()) is True
    assert gateway.is_transient(ValueError()) is False
