"""The test base that Hummingbot's connector suites import as ``test.isolated_asyncio_wrapper_test_case``.

The PyPI package ships the suites (``hummingbot/connector/test_support``) but not this module, so the
project provides its own: an ``IsolatedAsyncioTestCase`` exposing its loop as ``local_event_loop`` and
restoring whatever loop was current before the class ran (so suites that run later keep theirs).
"""
import asyncio
import unittest
from typing import Any, Awaitable, Optional


def _current_or_new_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop


def _restore_loop(loop: Optional[asyncio.AbstractEventLoop]) -> None:
    usable = loop is not None and not loop.is_closed()
    asyncio.set_event_loop(loop if usable else asyncio.new_event_loop())


class IsolatedAsyncioWrapperTestCase(unittest.IsolatedAsyncioTestCase):
    """Each test in its own loop (``local_event_loop``); the loop current before the class is put back."""

    main_event_loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.main_event_loop = _current_or_new_loop()
        super().setUpClass()

    def setUp(self) -> None:
        self.local_event_loop = asyncio.get_event_loop()
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        _restore_loop(self.main_event_loop)

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        _restore_loop(cls.main_event_loop)

    def run_async_with_timeout(self, coroutine: Awaitable, timeout: float = 1.0) -> Any:
        """Drive ``coroutine`` to completion from a synchronous test method."""
        return self.local_event_loop.run_until_complete(asyncio.wait_for(coroutine, timeout=timeout))


class LocalClassEventLoopWrapperTestCase(unittest.TestCase):
    """Synchronous tests sharing one loop per class, driven with ``run_async_with_timeout``."""

    main_event_loop: Optional[asyncio.AbstractEventLoop] = None
    local_event_loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.main_event_loop = _current_or_new_loop()
        cls.local_event_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(cls.local_event_loop)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.local_event_loop.close()
        cls.local_event_loop = None
        _restore_loop(cls.main_event_loop)

    def run_async_with_timeout(self, coroutine: Awaitable, timeout: float = 1.0) -> Any:
        return self.local_event_loop.run_until_complete(asyncio.wait_for(coroutine, timeout=timeout))
