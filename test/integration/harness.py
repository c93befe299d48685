"""Integration harness: the real ExtendedPerpetualDerivative against the in-process Extended emulator, over real
loopback sockets (REST and WebSockets on 127.0.0.1), with throw-away Stark keys.

``ConnectorTestCase`` starts an emulator (book moves only when a test asks: ``mm_interval=None``), adds one account,
points the connector at it through ``EXTENDED_PERPETUAL_BASE_URL``, shortens every reconnect / receive-timeout /
heartbeat setting, ticks the connector from a background task (as Hummingbot's clock would), records every
``MarketEvent`` and waits for ``connector.ready``. Everything is stopped and restored in cleanup.

REST requests are counted on the emulator side (``CountingEmulator`` wraps its gatekeeping middleware hook), so a
test can bound the requests a recovery costs (no hot loop).
"""
import asyncio
import logging
import os
import time
from collections import Counter
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple
from unittest import mock

import aiohttp

from scripts.throwaway_account import ThrowAwayAccount
from extended_emulator import Emulator, FeeRates
from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_derivative as derivative_module,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
    ExtendedPerpetualDerivative,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_user_stream_data_source import (
    ExtendedPerpetualUserStreamDataSource,
)
from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from hummingbot.core.web_assistant.connections.rest_connection import RESTConnection
from hummingbot.core.web_assistant.connections.ws_connection import WSConnection
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

PAIR = "BTC-USD"
MARKET = "BTC-USD"
START_BALANCE = Decimal("100000")
TAKER_FEE = Decimal("0.00025")
MAKER_FEE = Decimal("0.0001")


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02,
                     message: str = "condition") -> Any:
    """Poll ``predicate`` until it is truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        await asyncio.sleep(interval)


def _task_name(task: asyncio.Task) -> str:
    """The coroutine a task runs, seen through Hummingbot's ``safe_wrapper``."""
    coroutine = task.get_coro()
    frame = getattr(coroutine, "cr_frame", None)
    inner = frame.f_locals.get("c") if frame is not None else None
    return getattr(inner or coroutine, "__qualname__", repr(coroutine))


class CountingEmulator(Emulator):
    """The emulator, counting every REST request (``/api/...``) it receives, by method and path."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests: List[Tuple[float, str, str]] = []

    async def _gatekeep(self, request):
        if request.path.startswith("/api/"):
            self.requests.append((time.monotonic(), request.method, request.path))
        return await super()._gatekeep(request)

    def request_count(self, since: float = 0.0, path_contains: Optional[str] = None,
                      method: Optional[str] = None) -> int:
        return sum(1 for t, m, p in self.requests
                   if t >= since and (path_contains is None or path_contains in p) and (method is None or m == method))

    def requests_by_path(self, since: float = 0.0) -> Counter:
        return Counter(f"{m} {p}" for t, m, p in self.requests if t >= since)


class ClientCounters:
    """What the connector itself sends (counted even while the server is down): REST calls and WS connects."""

    def __init__(self):
        self.rest: List[Tuple[float, str]] = []
        self.ws_connects: List[Tuple[float, str]] = []

    def patches(self) -> list:
        counters = self
        rest_call, ws_connect = RESTConnection.call, WSConnection.connect

        async def counting_call(connection, request, *args, **kwargs):
            counters.rest.append((time.monotonic(), str(request.url)))
            return await rest_call(connection, request, *args, **kwargs)

        async def counting_connect(connection, ws_url, *args, **kwargs):
            counters.ws_connects.append((time.monotonic(), ws_url))
            return await ws_connect(connection, ws_url, *args, **kwargs)

        return [mock.patch.object(RESTConnection, "call", counting_call),
                mock.patch.object(WSConnection, "connect", counting_connect)]

    def rest_since(self, since: float, contains: str = "") -> int:
        return sum(1 for t, url in self.rest if t >= since and contains in url)

    def ws_connects_since(self, since: float, contains: str = "") -> int:
        return sum(1 for t, url in self.ws_connects if t >= since and contains in url)


class LogRecorder(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord):
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> List[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def contains(self, text: str, level: int = logging.DEBUG) -> bool:
        return any(text in message for message in self.messages(level))


class ConnectorTestCase(IsolatedAsyncioWrapperTestCase):
    """One emulator + one connector per test, ready to trade when the test body starts."""

    emulator_kwargs: Dict[str, Any] = {}
    leverage = Decimal(10)
    tick_interval = 0.1

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self._patches = [
            mock.patch.object(ExtendedPerpetualUserStreamDataSource, "RECONNECT_INITIAL_DELAY", 0.05),
            mock.patch.object(ExtendedPerpetualUserStreamDataSource, "RECONNECT_MAX_DELAY", 0.4),
            mock.patch.object(ExtendedPerpetualUserStreamDataSource, "RECEIVE_TIMEOUT", 5.0),
            mock.patch.object(ExtendedPerpetualUserStreamDataSource, "HEARTBEAT_INTERVAL", 2.0),
            mock.patch.object(ExtendedPerpetualUserStreamDataSource, "STABLE_CONNECTION_SECONDS", 1.0),
            mock.patch.object(ExtendedPerpetualAPIOrderBookDataSource, "RECONNECT_INITIAL_DELAY", 0.05),
            mock.patch.object(ExtendedPerpetualAPIOrderBookDataSource, "RECONNECT_MAX_DELAY", 0.4),
            mock.patch.object(ExtendedPerpetualAPIOrderBookDataSource, "RECEIVE_TIMEOUT", 5.0),
            mock.patch.object(ExtendedPerpetualAPIOrderBookDataSource, "HEARTBEAT_INTERVAL", 2.0),
            mock.patch.object(derivative_module, "FUNDING_PAYMENT_POLL_DELAY", 0.2),
            mock.patch.object(derivative_module, "_STREAM_FILL_GRACE_SECONDS", 0.5),
            mock.patch.object(derivative_module, "RATE_LIMIT_BACKOFF_INITIAL", 0.2),
            mock.patch.object(derivative_module, "RATE_LIMIT_BACKOFF_MAX", 1.0),
            mock.patch.object(derivative_module, "UNANSWERED_ORDER_LOOKUP_DELAYS", (0.2, 0.4, 0.8, 1.6)),
        ]
        self.client = ClientCounters()
        self._patches += self.client.patches()
        for patch in self._patches:
            patch.start()
        self._forget_foreign_shared_session()
        kwargs = dict(seed=7, network="mainnet", mm_interval=None, ping_interval=2.0, pong_timeout=5.0)
        kwargs.update(self.emulator_kwargs)
        self.emu = CountingEmulator(**kwargs)
        self.base_url = await self.emu.start(host="127.0.0.1", port=0)
        self.account = ThrowAwayAccount.generate()
        self.emu.add_account(api_key=self.account.api_key, stark_public_key=self.account.public_key,
                             vault=self.account.vault, balance=START_BALANCE,
                             fee_rates=FeeRates(maker=MAKER_FEE, taker=TAKER_FEE),
                             leverage={MARKET: self.leverage})
        self._previous_base_url = os.environ.get(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR)
        os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = self.base_url
        self.log = LogRecorder()
        self.connector = self.build_connector()
        self._logger_level = self.connector.logger().level
        self.connector.logger().setLevel(logging.DEBUG)
        self.connector.logger().addHandler(self.log)
        self.events: Dict[MarketEvent, EventLogger] = {}
        for event in MarketEvent:
            logger = EventLogger()
            self.connector.add_listener(event, logger)
            self.events[event] = logger
        await self.connector.start_network()
        self._ticker = asyncio.ensure_future(self._tick_forever())
        await wait_until(lambda: self.connector.ready, timeout=15, message="connector ready")
        await wait_until(lambda: self.best(True) is not None and self.best(False) is not None, timeout=10,
                         message="both sides of the book")

    def build_connector(self) -> ExtendedPerpetualDerivative:
        return ExtendedPerpetualDerivative(**self.account.connector_keys(), trading_pairs=[PAIR],
                                           trading_required=True, domain=CONSTANTS.DEFAULT_DOMAIN)

    async def _tick_forever(self):
        """Hummingbot's real-time clock drives the connector (``current_timestamp``, ``tick``), as in the client."""
        clock = Clock(ClockMode.REALTIME, tick_size=self.tick_interval)
        clock.add_iterator(self.connector)
        with clock:
            await clock.run()

    async def asyncTearDown(self) -> None:
        try:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            await self.connector.stop_network()
            self.connector.logger().removeHandler(self.log)
            self.connector.logger().setLevel(self._logger_level)
            await ConnectionsFactory().close()  # Hummingbot's process-wide aiohttp session, bound to this loop
            await self.emu.stop()
        finally:
            if self._previous_base_url is None:
                os.environ.pop(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR, None)
            else:
                os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = self._previous_base_url
            for patch in reversed(self._patches):
                patch.stop()
            try:
                await self._settle_background_tasks()
            finally:
                await super().asyncTearDown()

    @staticmethod
    def _forget_foreign_shared_session():
        """Hummingbot shares one aiohttp session per process (a singleton); one made in another test's (closed)
        loop cannot serve this one."""
        factory = ConnectionsFactory()
        session = factory._shared_client
        if session is not None and getattr(session, "_loop", None) is not asyncio.get_running_loop():
            factory._shared_client = None

    async def _settle_background_tasks(self):
        """Nothing long-lived may outlive stop_network (a polling loop or a listener left running is a leak); short
        fire-and-forget helpers still pending are cancelled so that nothing outlives the test."""
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        names = [_task_name(task) for task in leftovers]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        self.assertEqual([], [name for name in names if "_loop" in name or "listen" in name],
                         "long-lived tasks left running after stop_network")

    # ------------------------------------------------------------------ book helpers
    def best(self, is_ask: bool) -> Optional[Decimal]:
        """The emulator's best ask (``is_ask``) or bid."""
        price = self.emu.exchange.books[MARKET].best(not is_ask)
        return None if price is None else Decimal(price)

    def mm_trade(self, side: str, qty: Decimal, price: Decimal):
        """A counterparty (the emulator's market-maker account) sends a limit order, matched at once."""
        exchange = self.emu.exchange
        order = exchange.place_internal(self.emu.market_makers.account, MARKET, side, Decimal(qty), Decimal(price))
        exchange.publish_book(MARKET)
        return order

    def book_from_connector(self) -> Tuple[Dict[Decimal, Decimal], Dict[Decimal, Decimal]]:
        book = self.connector.get_order_book(PAIR)
        bids = {Decimal(str(row.price)): Decimal(str(row.amount)) for row in book.bid_entries()}
        asks = {Decimal(str(row.price)): Decimal(str(row.amount)) for row in book.ask_entries()}
        return bids, asks

    async def book_from_emulator_rest(self) -> Tuple[Dict[Decimal, Decimal], Dict[Decimal, Decimal]]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.base_url}/api/v1/info/markets/{MARKET}/orderbook",
                                   headers={"User-Agent": "integration-test"}) as response:
                data = (await response.json())["data"]
        bids = {Decimal(level["price"]): Decimal(level["qty"]) for level in data["bid"]}
        asks = {Decimal(level["price"]): Decimal(level["qty"]) for level in data["ask"]}
        return bids, asks

    # ------------------------------------------------------------------ ledger helpers
    def ledger(self) -> dict:
        return self.emu.ledger(self.account.api_key)

    def ledger_order(self, client_order_id: str) -> Optional[dict]:
        return next((o for o in self.ledger()["orders"] if o.get("externalId") == client_order_id), None)

    def ledger_position(self) -> Decimal:
        return sum((Decimal(p["size"]) * (1 if p["side"] == "LONG" else -1) for p in self.ledger()["positions"]
                    if p["market"] == MARKET), Decimal(0))

    def connector_position(self) -> Decimal:
        return sum((p.amount for p in self.connector.account_positions.values() if p.trading_pair == PAIR),
                   Decimal(0))

    def fills(self) -> list:
        return list(self.events[MarketEvent.OrderFilled].event_log)

    def fill_ids(self) -> Counter:
        return Counter(event.exchange_trade_id for event in self.fills())

    def event_log(self, event: MarketEvent) -> list:
        return list(self.events[event].event_log)

    # ------------------------------------------------------------------ orders
    def limit(self, is_buy: bool, amount: Decimal, price: Decimal, order_type: OrderType = OrderType.LIMIT,
              position_action: PositionAction = PositionAction.OPEN) -> str:
        place = self.connector.buy if is_buy else self.connector.sell
        return place(PAIR, Decimal(amount), order_type, Decimal(price), position_action=position_action)

    def market(self, is_buy: bool, amount: Decimal, position_action: PositionAction = PositionAction.OPEN) -> str:
        place = self.connector.buy if is_buy else self.connector.sell
        mid = (self.best(True) + self.best(False)) / 2
        return place(PAIR, Decimal(amount), OrderType.MARKET, mid, position_action=position_action)

    async def wait_ledger_status(self, client_order_id: str, *statuses: str, timeout: float = 10.0) -> dict:
        await wait_until(lambda: (self.ledger_order(client_order_id) or {}).get("status") in statuses,
                         timeout=timeout, message=f"emulator status of {client_order_id} in {statuses}")
        return self.ledger_order(client_order_id)

    async def wait_done(self, client_order_id: str, timeout: float = 10.0):
        await wait_until(lambda: client_order_id not in self.connector.in_flight_orders, timeout=timeout,
                         message=f"{client_order_id} no longer in flight")

    async def wait_in_sync(self, timeout: float = 10.0):
        """Wait until the connector's fills, open orders, position and balance equal the ledger's (then assert
        them all)."""
        def in_sync() -> bool:
            ledger = self.ledger()
            our_trades = {str(t["id"]) for t in ledger["trades"]}
            open_on_exchange = {o["externalId"] for o in ledger["openOrders"]}
            open_here = {oid for oid, o in self.connector.in_flight_orders.items() if o.is_open}
            return (set(self.fill_ids()) == our_trades and open_on_exchange == open_here
                    and self.connector_position() == self.ledger_position()
                    and self.connector.get_balance("USD") == Decimal(ledger["balance"]["equity"])
                    and self.connector.get_available_balance("USD") == Decimal(ledger["balance"]["availableForTrade"]))
        try:
            await wait_until(in_sync, timeout=timeout, message="connector in sync with the ledger")
        finally:
            self.assert_matches_ledger()

    def assert_matches_ledger(self):
        ledger = self.ledger()
        fill_ids = self.fill_ids()
        duplicated = {trade_id: n for trade_id, n in fill_ids.items() if n > 1}
        self.assertEqual({}, duplicated, "fills counted twice")
        self.assertEqual(sorted(str(t["id"]) for t in ledger["trades"]), sorted(fill_ids), "fills lost or extra")
        by_trade = {str(t["id"]): t for t in ledger["trades"]}
        for event in self.fills():
            trade = by_trade[event.exchange_trade_id]
            self.assertEqual(Decimal(trade["qty"]), event.amount)
            self.assertEqual(Decimal(trade["price"]), event.price)
            self.assertEqual(Decimal(trade["fee"]), event.trade_fee.flat_fees[0].amount)
            self.assertEqual(trade["orderId"], int(event.exchange_order_id) if isinstance(trade["orderId"], int)
                             else event.exchange_order_id)
        self.assertEqual(self.ledger_position(), self.connector_position(), "position")
        self.assertEqual(Decimal(ledger["balance"]["equity"]), self.connector.get_balance("USD"), "equity")
        self.assertEqual(Decimal(ledger["balance"]["availableForTrade"]),
                         self.connector.get_available_balance("USD"), "available balance")
        open_on_exchange = {o["externalId"] for o in ledger["openOrders"]}
        open_here = {oid for oid, o in self.connector.in_flight_orders.items() if o.is_open}
        self.assertEqual(open_on_exchange, open_here, "open orders")
