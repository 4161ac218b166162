"""HTTP tier: the real app over the test database, through httpx's ASGITransport or uvicorn
on loopback in the test's event loop (tests/py/conftest.py: http_app, client, shop)."""
