"""End-to-end tier: real processes (the service under its server, nginx, a browser, the
torture and bench tools). Marked `e2e`: `make test-quick` leaves them out, `make test` runs them."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
