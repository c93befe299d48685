"""Suite-wide test plumbing.

Hummingbot objects (connectors, trackers) look up the current event loop when they are built, as they would in
the client, where one loop always exists. ``unittest.IsolatedAsyncioTestCase`` leaves the thread with no current
loop after each test, so a synchronous test that follows one would fail for a reason unrelated to what it checks.
"""
import asyncio

import pytest


@pytest.fixture(autouse=True)
def current_event_loop():
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    yield
