"""The booking page (app/static/index.html) and its script and style sheet: open, no token.

The page holds no logic of its own about what is free: it shows what the API answers
(GET /barbers, /services, /availability with the token pasted into it) and books through
POST /appointments, where book_appointment() stays the judge. Its script and styles are
separate files (no inline code), so a Content-Security-Policy of 'self' suffices.
"""

from __future__ import annotations

from pathlib import Path

from litestar import MediaType, Response, get
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@get("/", include_in_schema=False, sync_to_thread=False)
def booking_page() -> Response:
    html = (STATIC_DIR / "index.html").read_bytes()
    return Response(content=html, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})


static_files = create_static_files_router(
    path="/static", directories=[STATIC_DIR], name="static", include_in_schema=False
)

HANDLERS = [booking_page, static_files]
