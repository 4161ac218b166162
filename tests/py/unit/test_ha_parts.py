"""The parts of app.ha (and the multi-host URL in app.migrate) that need no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from yoyo.connections import parse_uri

from app.ha import Event, async_windows
from app.migrate import yoyo_url

T0 = datetime(2030, 1, 8, 10, 0, tzinfo=UTC)


def event(i: int, seconds: float, node: str, reported: str, goal: str) -> Event:
    return Event(i, T0 + timedelta(seconds=seconds), node, reported, goal, "")


def test_async_windows_from_the_monitor_events():
    """A lost standby (primary -> wait_primary -> primary), then a failover: node2 promoted,
    alone until node1 rejoins; the last window is still open."""
    events = [
        event(1, 0, "node1", "primary", "primary"),
        event(2, 10, "node1", "primary", "wait_primary"),  # the standby unhealthy: goal first
        event(3, 10.2, "node1", "wait_primary", "wait_primary"),
        event(4, 30, "node1", "wait_primary", "primary"),  # the standby is back: still alone...
        event(5, 30.2, "node1", "primary", "primary"),  # ...until it reports primary
        event(6, 50, "node2", "stop_replication", "wait_primary"),
        event(7, 50.1, "node1", "primary", "demoted"),
        event(8, 50.2, "node2", "wait_primary", "wait_primary"),
        event(9, 55, "node2", "wait_primary", "primary"),
        event(10, 55.3, "node2", "primary", "primary"),
        event(11, 70, "node2", "primary", "wait_primary"),
    ]
    windows = async_windows(events)
    assert [(w.node, w.start, w.end) for w in windows] == [
        ("node1", T0 + timedelta(seconds=10), T0 + timedelta(seconds=30.2)),
        ("node2", T0 + timedelta(seconds=50), T0 + timedelta(seconds=55.3)),
        ("node2", T0 + timedelta(seconds=70), None),
    ]
    # the commits waiting since the formation's event before count too
    assert [w.since for w in windows] == [T0, T0 + timedelta(seconds=30.2), T0 + timedelta(seconds=55.3)]
    assert round(windows[0].seconds(), 1) == 20.2
    assert windows[2].seconds(T0 + timedelta(seconds=75)) == 5


def test_yoyo_gets_a_multi_host_url_as_libpq_parameters():
    url = "postgresql://postgres@127.0.0.1:5433,127.0.0.1:5434/booking?target_session_attrs=read-write"
    parsed = parse_uri(yoyo_url(url))
    assert (parsed.hostname, parsed.port, parsed.database, parsed.username) == (None, None, "booking", "postgres")
    assert parsed.args == {
        "host": "127.0.0.1,127.0.0.1",
        "port": "5433,5434",
        "target_session_attrs": "read-write",
    }
    # one host stays as it was
    assert yoyo_url("postgresql://u@h:5/db") == "postgresql+psycopg://u@h:5/db"
    assert parse_uri(yoyo_url("postgresql://u:p@a,b:7/db")).args == {"host": "a,b", "port": "5432,7"}
