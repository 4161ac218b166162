"""The booking page in a real headless browser: Debian's Chromium driven by Playwright,
against the real app under uvicorn on a loopback port (like test_http_events.py: an SSE
stream needs a real server).

What a user does: paste a token, pick barber, service and day, see the free times, book
one (a double click books once), and watch times vanish without reloading when someone
else books; booking a time somebody took a moment ago shows the conflict.

Chromium comes from apt (scripts/bootstrap.sh installs it as root); `playwright install`
is never used. Without /usr/bin/chromium the tests skip only when not running as root
(they cannot install it); as root a missing browser is a failure.
Screenshots: test-output/booking-page.png (desktop) and booking-page-phone.png (390x844).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.config import Settings
from app.web import create_app
from harness.service import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = Path(__file__).resolve().parents[3] / "test-output"
WAIT_MS = 5000  # bound of every wait for the page (live updates must land within it)


def _chromium_or_skip() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    if os.geteuid() != 0:
        reason = (
            f"{CHROMIUM} is missing and this is not root, so it could not be installed: "
            "run `sudo apt-get install -y chromium` to run the browser tests"
        )
        print(f"SKIP test_browser: {reason}")
        pytest.skip(reason)
    pytest.fail(
        f"{CHROMIUM} is missing although running as root: scripts/bootstrap.sh --with-pgtap "
        "(make test) installs it; run `apt-get install -y chromium`",
        pytrace=False,
    )


@pytest.fixture(scope="module")
async def browser():
    _chromium_or_skip()
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # a test dependency (pyproject's test extras)
        pytest.fail("the Python package playwright is missing: pip install -e '.[test]'", pytrace=False)
    async with async_playwright() as p:
        # launch() gives every run a fresh temporary profile (user-data dir).
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture(scope="module")
async def server(database_url):
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0))
    async with serving(app) as base:
        yield app, base


@pytest.fixture
async def context(browser, server):
    ctx = await browser.new_context(
        base_url=server[1], viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="America/Los_Angeles"
    )
    ctx.set_default_timeout(WAIT_MS)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server[1], timeout=10) as c:
        yield c


def bearer(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def instant(day, hhmm: str, zone: str) -> str:
    """The RFC 3339 UTC instant of local `hhmm` on `day` in `zone`, as the API writes it."""
    h, m = map(int, hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).isoformat().replace("+00:00", "Z")


def slot(page, iso: str):
    return page.locator(f'button.slot[data-start="{iso}"]')


async def open_page(page, token: str, barber: str, service: str, day):
    await page.goto("/")
    await page.fill("#token", token)
    await page.click("#token-save")
    await page.wait_for_selector("#choose-fields:not([disabled])")
    await page.select_option("#barber", barber)
    await page.select_option("#service", service)
    await page.fill("#date", day.isoformat())
    # The times of that day (not those of the default day, today, shown a moment before).
    await page.wait_for_selector(f'button.slot[data-start^="{day.isoformat()}"]')


async def appointments_at(db, barber: int | None, start: str) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM booking.appointments WHERE ($1::bigint IS NULL OR barber_id = $1)"
        " AND start_time = $2::timestamptz AND status <> 'cancelled'",
        barber,
        datetime.fromisoformat(start.replace("Z", "+00:00")),
    )


async def test_book_on_the_page_and_watch_slots_vanish(context, http, shop, day, clean_db):
    OUT.mkdir(exist_ok=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A Content-Security-Policy violation (inline script or style) is logged, not thrown.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    zone = "Europe/London"
    await open_page(page, bearer(shop.client), str(shop.barber), "Haircut", day)

    # Two zones in the shop (London, UTC): "Any barber" is not offered.
    assert await page.locator('#barber option[value="any"]').count() == 0
    # The free times are the API's, shown in the barber's zone (not the browser's, Los Angeles).
    api = (
        await http.get(
            f"/barbers/{shop.barber}/availability",
            headers=shop.client,
            params={"date": day.isoformat(), "service": "Haircut"},
        )
    ).json()["slots"]
    starts = await page.locator("button.slot").evaluate_all("els => els.map(e => e.dataset.start)")
    assert starts == [s["start"] for s in api]
    ten = slot(page, instant(day, "10:00", zone))
    assert (await ten.inner_text()).strip() == "10:00"
    label = await ten.get_attribute("aria-label")
    assert "Haircut" in label and "10:00" in label and "Ana" in label and zone in label
    await page.wait_for_selector('#live-state[data-live="on"]')
    await page.screenshot(path=str(OUT / "booking-page-slots.png"), full_page=True)

    # Book 10:00 with a double click: one attempt, one Idempotency-Key, one appointment.
    posts: list[dict] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST" else None)
    await ten.dblclick()
    await page.wait_for_selector("#message.msg-success")
    assert "Booked" in await page.inner_text("#message")
    await ten.wait_for(state="detached")
    assert await appointments_at(clean_db, shop.barber, instant(day, "10:00", zone)) == 1
    assert len(posts) == 1 and len(posts[0]["idempotency-key"]) == 36
    await page.screenshot(path=str(OUT / "booking-page.png"), full_page=True)

    # Someone else books 11:00 over HTTP: it vanishes from the page without a reload.
    eleven = slot(page, instant(day, "11:00", zone))
    assert await eleven.count() == 1
    r = await http.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "11:00"},
    )
    assert r.status_code == 201, r.text
    await eleven.wait_for(state="detached", timeout=WAIT_MS)
    # 10:45 (would run into 11:00) went with it; 11:30 stays.
    assert await slot(page, instant(day, "10:45", zone)).count() == 0
    assert await slot(page, instant(day, "11:30", zone)).count() == 1

    # 12:00 is taken over HTTP just before the user clicks it: either the live update wins
    # (the time vanishes) or the click does (the 409 is shown); never two appointments.
    noon_iso = instant(day, "12:00", zone)
    noon = slot(page, noon_iso)
    r = await http.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "12:00"},
    )
    assert r.status_code == 201, r.text
    try:
        await noon.click(timeout=1000)
    except Exception:  # already gone: the live update won the race
        pass
    outcome = await page.wait_for_function(
        """iso => {
            const msg = document.getElementById('message');
            if (msg.classList.contains('msg-error') && /just taken/.test(msg.textContent)) return 'conflict';
            const gone = !document.querySelector(`button.slot[data-start="${iso}"]`);
            return gone && !/Booking/.test(msg.textContent) ? 'vanished' : null;
        }""",
        arg=noon_iso,
        timeout=WAIT_MS,
    )
    assert await outcome.json_value() in ("conflict", "vanished")
    assert await appointments_at(clean_db, shop.barber, noon_iso) == 1
    await noon.wait_for(state="detached")
    assert not errors, errors

    # At phone width the page still fits: no horizontal scrolling.
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=str(OUT / "booking-page-phone.png"), full_page=True)


async def test_conflict_message_when_live_updates_are_off(context, http, shop, day, clean_db):
    """Without the event stream (blocked here) the page still shows a taken time until it
    is clicked: then it says so with the problem's title and detail, and drops the time."""
    page = await context.new_page()
    await page.route("**/barbers/*/events", lambda route: route.abort())
    await open_page(page, bearer(shop.client), str(shop.other_barber), "Haircut", day)
    iso = instant(day, "13:00", "UTC")
    assert await slot(page, iso).count() == 1
    r = await http.post(
        "/appointments",
        headers=shop.client2,
        json={
            "barber_id": shop.other_barber,
            "service": "Haircut",
            "booking_date": day.isoformat(),
            "booking_time": "13:00",
        },
    )
    assert r.status_code == 201, r.text
    await slot(page, iso).click()
    await page.wait_for_selector("#message.msg-error")
    text = await page.inner_text("#message")
    assert "just taken" in text and "conflicts with an existing appointment" in text, text
    await slot(page, iso).wait_for(state="detached")
    assert await appointments_at(clean_db, shop.other_barber, iso) == 1


async def test_token_is_remembered_and_a_bad_one_is_explained(context, shop):
    page = await context.new_page()
    await page.goto("/")
    await page.fill("#token", "not-a-token")
    await page.click("#token-save")
    await page.wait_for_selector("#message.msg-error")
    assert "token was refused" in await page.inner_text("#message")
    assert await page.get_attribute("#token", "aria-invalid") == "true"
    assert await page.evaluate("document.activeElement.id") == "token"
    # A good token is remembered: a reload loads the barbers without typing it again.
    await page.fill("#token", bearer(shop.client))
    await page.click("#token-save")
    await page.wait_for_selector("#choose-fields:not([disabled])")
    await page.reload()
    await page.wait_for_selector("#choose-fields:not([disabled])")
    assert await page.input_value("#token") == bearer(shop.client)
    assert await page.locator("#barber option").count() == 2


async def test_any_barber_in_a_single_zone_shop(context, http, make_barber, make_service, make_token, day, clean_db):
    hours = [(d, time(9), time(18)) for d in range(1, 7)]
    uma = await make_barber("Uma", "Europe/Paris", hours)
    vic = await make_barber("Vic", "Europe/Paris", [(d, time(12), time(18)) for d in range(1, 7)])
    await make_service("Haircut", 30)
    headers = await make_token(101, "client")
    page = await context.new_page()
    await open_page(page, bearer(headers), "any", "Haircut", day)
    api = (
        await http.get("/availability", headers=headers, params={"date": day.isoformat(), "service": "Haircut"})
    ).json()["slots"]
    starts = await page.locator("button.slot").evaluate_all("els => els.map(e => e.dataset.start)")
    assert starts == [s["start"] for s in api]
    assert "Europe/Paris" in await page.inner_text("#zone-note")
    # 12:00 Paris: both are free; the shop picks one (POST without barber_id) and, the other
    # being still free, the time stays offered.
    noon = instant(day, "12:00", "Europe/Paris")
    await slot(page, noon).click()
    await page.wait_for_selector("#message.msg-success")
    text = await page.inner_text("#message")
    assert "Booked" in text and ("Uma" in text or "Vic" in text), text
    assert await appointments_at(clean_db, None, noon) == 1
    # Once both are booked at 12:00 it is no longer free for "any barber".
    await slot(page, noon).click()
    await page.wait_for_function(
        "first => { const m = document.getElementById('message');"
        " return m.classList.contains('msg-success') && m.textContent !== first; }",
        arg=text,
    )
    await slot(page, noon).wait_for(state="detached")
    rows = await clean_db.fetch("SELECT barber_id FROM booking.appointments ORDER BY barber_id")
    assert [r["barber_id"] for r in rows] == [uma, vic]


async def test_your_appointments_cancel_and_reschedule_with_refusals_in_words(context, http, shop, day, clean_db):
    """The client's upcoming appointments are listed; rescheduling onto a taken time says
    so in words and leaves the appointment as it was; rescheduling to a free time moves it;
    cancelling cancels it."""
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    zone = "Europe/London"
    mine = (
        await http.post(
            "/appointments",
            headers=shop.client,
            json={
                "barber_id": shop.barber,
                "service": "Haircut",
                "booking_date": day.isoformat(),
                "booking_time": "10:00",
            },
        )
    ).json()
    taken = await http.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "14:00"},
    )
    assert taken.status_code == 201
    await open_page(page, bearer(shop.client), str(shop.barber), "Haircut", day)
    item = page.locator(f'#mine li.appointment[data-id="{mine["id"]}"]')
    await item.wait_for()
    assert "10:00" in await item.inner_text() and "Haircut" in await item.inner_text()
    assert await page.locator("#mine li.appointment").count() == 1  # not the other client's

    # Onto 14:00, which is taken: refused, in words; nothing moved.
    await item.locator('input[type="time"]').fill("14:00")
    await item.locator('button[type="submit"]').click()
    await page.wait_for_selector("#message.msg-error")
    text = await page.inner_text("#message")
    assert "is taken" in text and "stays as it was" in text, text
    assert await clean_db.fetchval("SELECT version FROM booking.appointments WHERE id = $1", mine["id"]) == 1

    # Onto 15:30, free: moved.
    await item.locator('input[type="time"]').fill("15:30")
    await item.locator('button[type="submit"]').click()
    await page.wait_for_selector("#message.msg-success")
    assert "Rescheduled" in await page.inner_text("#message")
    start = await clean_db.fetchval("SELECT start_time FROM booking.appointments WHERE id = $1", mine["id"])
    assert start.isoformat().replace("+00:00", "Z") == instant(day, "15:30", zone)
    await page.wait_for_function(
        "id => (document.querySelector(`#mine li[data-id=\"${id}\"]`) || {}).textContent?.includes('15:30')",
        arg=str(mine["id"]),
    )

    # Cancel: gone from the upcoming list.
    await item.locator("button.cancel").click()
    await page.wait_for_selector("#message.msg-success")
    assert "Cancelled" in await page.inner_text("#message")
    await item.wait_for(state="detached")
    assert await clean_db.fetchval("SELECT status FROM booking.appointments WHERE id = $1", mine["id"]) == "cancelled"
    assert not errors, errors


async def test_the_barbers_day_updates_live(context, http, shop, day):
    """With the barber's own token the day view lists every appointment of the day, and a
    booking made elsewhere appears without a reload (the event stream)."""
    page = await context.new_page()
    await open_page(page, bearer(shop.barber_staff), str(shop.barber), "Haircut", day)
    await page.wait_for_selector('#live-state[data-live="on"]')
    assert await page.locator("#day li.appointment").count() == 0
    made = await http.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "09:30"},
    )
    assert made.status_code == 201, made.text
    row = page.locator(f'#day li.appointment[data-id="{made.json()["id"]}"]')
    await row.wait_for(timeout=WAIT_MS)
    assert "09:30" in await row.inner_text()
    assert "1 appointment" in await page.inner_text("#day-summary")
    await page.screenshot(path=str(OUT / "booking-page-barber-day.png"), full_page=True)


async def test_the_barber_starts_and_finishes_with_one_click_each(context, http, shop, day, clean_db):
    """Issue 18: on its day view the barber's token gets Start, then Finish, on each
    appointment (one click each; the server stamps the times); the buffer recommendations
    are shown to it in words. A client's token gets neither."""
    made = await http.post(
        "/appointments",
        headers=shop.client,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "11:00"},
    )
    assert made.status_code == 201, made.text
    appointment = made.json()["id"]
    client_page = await context.new_page()
    await open_page(client_page, bearer(shop.client), str(shop.barber), "Haircut", day)
    await client_page.locator(f'#day li.appointment[data-id="{appointment}"]').wait_for(timeout=WAIT_MS)
    assert await client_page.locator("#day button.start").count() == 0
    assert await client_page.locator("#advice-heading").is_hidden()

    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await open_page(page, bearer(shop.barber_staff), str(shop.barber), "Haircut", day)
    row = page.locator(f'#day li.appointment[data-id="{appointment}"]')
    await row.locator("button.start").wait_for(timeout=WAIT_MS)
    assert "No finished appointments yet" in await page.inner_text("#advice")
    await row.locator("button.start").click()
    await page.wait_for_selector("#message.msg-success")
    assert "Started at" in await page.inner_text("#message")
    assert (
        await clean_db.fetchval("SELECT status FROM booking.appointments WHERE id = $1", appointment) == "in_progress"
    )
    await row.locator("button.finish").wait_for(timeout=WAIT_MS)
    assert "in progress since" in await row.inner_text()
    await row.locator("button.finish").click()
    await page.wait_for_function(
        "() => (document.querySelector('#message') || {}).textContent?.startsWith('Finished at')"
    )
    done = await clean_db.fetchrow(
        "SELECT status, started_at, finished_at FROM booking.appointments WHERE id = $1", appointment
    )
    assert done["status"] == "completed" and done["finished_at"] >= done["started_at"]
    await row.locator("button.finish").wait_for(state="detached", timeout=WAIT_MS)
    assert not errors, errors
