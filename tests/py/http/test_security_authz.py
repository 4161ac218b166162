"""The HTTP authorization matrix (docs/SECURITY.md): every endpoint x every kind of caller,
with the status each cell must answer, through the real app and database; plus token
expiry and revocation done the operator's way (`python -m app token create|revoke`).

Callers: no token, a malformed Authorization header, an unknown token, an expired token,
a revoked token, the client who owns the appointment, another client, the barber of the
appointment's barber, the barber of another barber, an admin. The appointment in every
cell belongs to client 101 with barber `shop.barber`.
"""

from __future__ import annotations

import asyncio
import subprocess
from contextlib import suppress
from pathlib import Path

import pytest

from app.tokens import hash_token, new_token
from tests.py.support import Shop, app_cli

ROOT = Path(__file__).resolve().parents[3]

CALLERS = [
    "none",
    "malformed",
    "unknown",
    "expired",
    "revoked",
    "client_own",
    "client_other",
    "barber_own",
    "barber_other",
    "admin",
]
UNAUTHENTICATED = {"none", "malformed", "unknown", "expired", "revoked"}
SEES_IT = {"client_own", "barber_own", "admin"}  # the appointment is visible to these

# endpoint -> {caller: status}; the unauthenticated callers are 401 everywhere.
MATRIX: dict[str, dict[str, int]] = {
    "POST /appointments": dict.fromkeys(CALLERS, 201),  # everyone books for themselves
    "GET /appointments/{id}": {c: 200 if c in SEES_IT else 404 for c in CALLERS},
    "PATCH /appointments/{id}": {c: 200 if c in SEES_IT else 404 for c in CALLERS},
    "POST /appointments/{id}/cancel": {c: 200 if c in SEES_IT else 404 for c in CALLERS},
    # Free times and the change feed carry no personal data (no user ids, no notes): any
    # authenticated caller may read them for any barber.
    "GET /barbers/{barber}/availability": dict.fromkeys(CALLERS, 200),
    "GET /barbers/{barber}/events": dict.fromkeys(CALLERS, 200),
    # Issue 15: holds, series and the caller's list book or show only for the caller;
    # cancelling the following occurrences is cancelling; the barber's feed is staff's; the
    # shop operations are its admin's (time off: also the barber's own).
    "POST /holds": dict.fromkeys(CALLERS, 201),
    "POST /appointments/series": dict.fromkeys(CALLERS, 201),
    "GET /appointments": dict.fromkeys(CALLERS, 200),
    "POST /appointments/{id}/cancel-following": {c: 200 if c in SEES_IT else 404 for c in CALLERS},
    "GET /appointments/{id}.ics": {c: 200 if c in SEES_IT else 404 for c in CALLERS},
    "GET /barbers/{barber}/calendar.ics": {c: 200 if c in ("barber_own", "admin") else 403 for c in CALLERS},
    "GET /shops/1/policy": dict.fromkeys(CALLERS, 200),
    "PUT /shops/1/policy": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "POST /shops/1/barbers": {c: 201 if c == "admin" else 403 for c in CALLERS},
    "PUT /barbers/{barber}/working-hours": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "POST /barbers/{barber}/time-off": {c: 201 if c in ("barber_own", "admin") else 403 for c in CALLERS},
    # Issue 16: a shop's webhooks are its admin's alone.
    "POST /shops/1/webhooks": {c: 201 if c == "admin" else 403 for c in CALLERS},
    "GET /shops/1/webhooks": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "POST /shops/1/webhooks/{webhook}/rotate": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "POST /shops/1/webhooks/{webhook}/disable": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "POST /shops/1/webhooks/{webhook}/enable": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "POST /shops/1/webhooks/{webhook}/test": {c: 202 if c == "admin" else 403 for c in CALLERS},
    "GET /shops/1/webhooks/{webhook}/deliveries": {c: 200 if c == "admin" else 403 for c in CALLERS},
    "DELETE /shops/1/webhooks/{webhook}": {c: 204 if c == "admin" else 403 for c in CALLERS},
    # Issue 18: check-in and check-out are its barber's and its shop's admins' (the client who
    # booked it sees it: 403; finishing one never started is refused by the order: 409); the
    # durations learned from are the barber's and the admins'; applying a default, the
    # admins' (here without history to learn from: 422).
    "POST /appointments/{id}/start": {
        c: 200 if c in ("barber_own", "admin") else 403 if c == "client_own" else 404 for c in CALLERS
    },
    "POST /appointments/{id}/finish": {
        c: 409 if c in ("barber_own", "admin") else 403 if c == "client_own" else 404 for c in CALLERS
    },
    "GET /barbers/{barber}/buffer-recommendations": {c: 200 if c in ("barber_own", "admin") else 403 for c in CALLERS},
    "POST /barbers/{barber}/buffer-recommendations/apply": {c: 422 if c == "admin" else 403 for c in CALLERS},
}
for row in MATRIX.values():
    row.update(dict.fromkeys(UNAUTHENTICATED, 401))

BODIES = {
    "POST /appointments": lambda shop, day: {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": "14:00",
    },
    "POST /holds": lambda shop, day: {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": "15:00",
    },
    "POST /appointments/series": lambda shop, day: {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": "16:00",
        "every_weeks": 1,
        "count": 2,
    },
    "PUT /shops/1/policy": lambda shop, day: {
        "min_notice_minutes": 0,
        "max_advance_days": None,
        "cancel_cutoff_minutes": 0,
        "reschedule_cutoff_minutes": 0,
    },
    "POST /shops/1/barbers": lambda shop, day: {"name": "New barber"},
    "POST /barbers/{barber}/buffer-recommendations/apply": lambda shop, day: {"service": "Haircut"},
    "POST /shops/1/webhooks": lambda shop, day: {"url": "https://93.184.216.34/hook"},
    "PUT /barbers/{barber}/working-hours": lambda shop, day: [
        {"weekday": d, "opens_at": "08:00", "closes_at": "19:00"} for d in range(1, 7)
    ],
    "POST /barbers/{barber}/time-off": lambda shop, day: {
        "start": f"{day.isoformat()}T06:00:00Z",
        "end": f"{day.isoformat()}T07:00:00Z",
        "reason": "dentist",
    },
}
# Requests that write something else than the appointment (a hold, a series, a barber):
# a refusal must still change nothing, which the appointment count shows.

CELLS = [(endpoint, caller, status) for endpoint, row in MATRIX.items() for caller, status in row.items()]


async def headers_for(caller: str, shop: Shop, clean_db, make_token) -> dict:
    if caller == "none":
        return {}
    if caller == "malformed":
        return {"Authorization": "Token " + new_token()}
    if caller == "unknown":
        return {"Authorization": "Bearer " + new_token()}
    if caller in ("expired", "revoked"):
        token = new_token()
        await clean_db.execute(
            "SELECT booking.create_api_token($1, 101, 'client', NULL, now() + interval '1 day')", hash_token(token)
        )
        if caller == "expired":
            await clean_db.execute(
                "UPDATE booking.api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
                hash_token(token),
            )
        else:
            assert await clean_db.fetchval("SELECT booking.revoke_api_token($1)", hash_token(token))
        return {"Authorization": f"Bearer {token}"}
    return {
        "client_own": shop.client,
        "client_other": shop.client2,
        "barber_own": shop.barber_staff,
        "barber_other": shop.other_staff,
        "admin": shop.admin,
    }[caller]


async def first_response_status(app, path: str, headers: dict) -> int:
    """The status of a streaming GET (the event stream never ends by itself): the ASGI app is
    called directly and stopped once it has started its answer."""
    started: asyncio.Future = asyncio.get_running_loop().create_future()

    async def receive():
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start" and not started.done():
            started.set_result(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("booking.test", 80),
    }
    task = asyncio.create_task(app(scope, receive, send))
    try:
        return await asyncio.wait_for(asyncio.shield(started), 10)
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task


@pytest.mark.parametrize("endpoint,caller,expected", CELLS, ids=[f"{e} as {c}" for e, c, _ in CELLS])
async def test_authorization_matrix(endpoint, caller, expected, http_app, client, shop, day, clean_db, make_token):
    r = await client.post(
        "/appointments",
        headers=shop.client,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:00"},
    )
    assert r.status_code == 201, r.text
    appt = r.json()
    headers = await headers_for(caller, shop, clean_db, make_token)
    method, template = endpoint.split(" ")
    # a public address literal: resolving it needs no DNS, and it is not refused as private
    webhook = await clean_db.fetchval("SELECT id FROM booking.create_webhook(1, 'https://93.184.216.34/hook')")
    path = template.format(id=appt["id"], barber=shop.barber, webhook=webhook)
    before = await clean_db.fetchrow("SELECT * FROM booking.appointments WHERE id = $1", appt["id"])

    if endpoint == "GET /barbers/{barber}/events":
        assert await first_response_status(http_app, path, headers) == expected
        return
    if endpoint in BODIES:
        r = await client.request(method, path, headers=headers, json=BODIES[endpoint](shop, day))
    elif endpoint == "GET /barbers/{barber}/availability":
        r = await client.get(path, headers=headers, params={"date": day.isoformat(), "service": "Haircut"})
    elif method == "PATCH":
        r = await client.patch(path, headers=headers, json={"notes": f"changed by {caller}"})
    else:
        r = await client.request(method, path, headers=headers)

    assert r.status_code == expected, r.text
    if expected >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == expected and r.json()["code"]
        if expected == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
        # A refused request changed nothing.
        after = await clean_db.fetchrow("SELECT * FROM booking.appointments WHERE id = $1", appt["id"])
        assert after == before
        assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1
    if expected == 404 and "{id}" in template:
        # Someone else's appointment looks exactly like one that does not exist.
        missing = await client.request(
            method,
            template.format(id=987654321, barber=shop.barber, webhook=webhook),
            headers=headers,
            **({"json": {"notes": "x"}} if method == "PATCH" else {}),
        )
        assert missing.status_code == 404
        assert {k: v for k, v in r.json().items() if k != "detail"} == {
            k: v for k, v in missing.json().items() if k != "detail"
        }


@pytest.mark.parametrize("path", ["/health", "/metrics", "/schema/openapi.json"])
async def test_open_endpoints_need_no_token(client, path):
    r = await client.get(path)
    assert r.status_code == 200


# --- tokens the operator's way --------------------------------------------------------


def run_cli(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return app_cli(database_url, "token", *args, stdin=stdin)


async def test_cli_token_expires(client, shop, day, clean_db, database_url):
    out = await asyncio.to_thread(
        run_cli, database_url, "create", "--user-id", "101", "--role", "client", "--expires-in-days", "1"
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    params = {"date": day.isoformat(), "service": "Haircut"}
    assert (await client.get(f"/barbers/{shop.barber}/availability", headers=headers, params=params)).status_code == 200
    left = await clean_db.fetchval(
        "SELECT expires_at - now() FROM booking.api_tokens WHERE token_hash = $1", hash_token(token)
    )
    assert 23.9 * 3600 < left.total_seconds() <= 24 * 3600
    # A day later (moved, not waited for):
    await clean_db.execute(
        "UPDATE booking.api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
        hash_token(token),
    )
    r = await client.get(f"/barbers/{shop.barber}/availability", headers=headers, params=params)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize("days", ["0", "-1", "nan", "inf", "x"])
def test_cli_refuses_a_non_positive_expiry(database_url, days):
    out = run_cli(database_url, "create", "--user-id", "101", "--role", "client", "--expires-in-days", days)
    assert out.returncode == 2 and "expires-in-days" in out.stderr


@pytest.mark.parametrize("via_stdin", [False, True], ids=["argument", "stdin"])
async def test_cli_token_revoke(client, shop, day, clean_db, database_url, via_stdin):
    out = await asyncio.to_thread(run_cli, database_url, "create", "--user-id", "101", "--role", "client")
    token = out.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "11:00"}
    assert (await client.post("/appointments", headers=headers, json=body)).status_code == 201
    args = ("revoke", "-") if via_stdin else ("revoke", token)
    out = await asyncio.to_thread(run_cli, database_url, *args, stdin=token + "\n" if via_stdin else None)
    assert out.returncode == 0 and out.stdout.strip() == "revoked", out.stderr
    r = await client.post("/appointments", headers=headers, json={**body, "booking_time": "12:00"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1
    # Revoking again finds no live token.
    out = await asyncio.to_thread(run_cli, database_url, "revoke", token)
    assert out.returncode != 0
