"""The Extended account stream: handshake authentication, forwarding, seq gaps, reconnection with back-off.

The socket is mocked at aiohttp's edge (NetworkMockingAssistant); messages are the live probe's snapshots
(``/work/shared/seeds/streaming-test-results.md``) and the API documentation's examples.
"""
import asyncio
import json
import logging
from typing import Any, Dict, List
from unittest.mock import AsyncMock, patch

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_user_stream_data_source import (
    ExtendedPerpetualUserStreamDataSource,
)
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

API_KEY = "stream-api-key-abcdef0123456789"  # noqa: mock

PROBE_ORDER_SNAPSHOT = {"type": "ORDER", "data": {"isSnapshot": True, "orders": []}, "ts": 1763797802075, "seq": 1}
PROBE_BALANCE_SNAPSHOT = {"type": "BALANCE", "data": {"isSnapshot": True, "balance": {
    "collateralName": "USD", "balance": "7.667333", "status": "ACTIVE", "equity": "7.667333",
    "availableForTrade": "7.667333", "availableForWithdrawal": "7.667333", "unrealisedPnl": "0.000000",
    "initialMargin": "0.000000", "marginRatio": "0", "updatedTime": 1762927892866, "exposure": "0",
    "leverage": "0.0000"}}, "ts": 1763797802075, "seq": 2}
PROBE_POSITION_SNAPSHOT = {"type": "POSITION", "data": {"isSnapshot": True, "positions": []},
                           "ts": 1763797802075, "seq": 3}
DOC_TRADE = {"type": "TRADE", "data": {"trades": [{
    "id": 1784963886257016832, "accountId": 3017, "market": "BTC-USD", "orderId": 9223372036854775808,
    "externalOrderId": "ext-1", "side": "BUY", "price": "58853.4000000000000000", "qty": "0.0900000000000000",
    "value": "5296.8060000000000000", "fee": "0.0000000000000000", "tradeType": "DELEVERAGE",
    "createdTime": 1701563440000, "isTaker": True}]}, "ts": 1715885884837, "seq": 5}


class ExtendedPerpetualUserStreamDataSourceTests(IsolatedAsyncioWrapperTestCase):
    level = 0

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.log_records: List[Any] = []
        self.mocking_assistant = NetworkMockingAssistant()
        await self.mocking_assistant.async_init()
        self.auth = ExtendedPerpetualAuth(API_KEY)
        self.data_source = ExtendedPerpetualUserStreamDataSource(
            auth=self.auth, trading_pairs=["BTC-USD"], connector=AsyncMock(),
            api_factory=web_utils.build_api_factory(auth=self.auth), domain=CONSTANTS.DEFAULT_DOMAIN)
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)
        self.output: asyncio.Queue = asyncio.Queue()
        self.sleeps: List[float] = []
        self.listener = None

    async def asyncTearDown(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
        self.data_source.logger().removeHandler(self)
        await super().asyncTearDown()

    def handle(self, record):
        self.log_records.append(record)

    def logged(self, level: str, fragment: str) -> bool:
        return any(r.levelname == level and fragment in r.getMessage() for r in self.log_records)

    def socket(self, *payloads: Dict[str, Any], close: bool = False) -> AsyncMock:
        ws = self.mocking_assistant.create_websocket_mock()
        for payload in payloads:
            self.mocking_assistant.add_websocket_aiohttp_message(ws, json.dumps(payload))
        if close:
            self.mocking_assistant.add_websocket_aiohttp_message(ws, "", message_type=aiohttp.WSMsgType.CLOSE)
        return ws

    async def fake_sleep(self, delay: float):
        self.sleeps.append(delay)

    def start(self):
        self.listener = asyncio.ensure_future(self.data_source.listen_for_user_stream(self.output))

    async def received(self, count: int) -> List[Dict[str, Any]]:
        return [await asyncio.wait_for(self.output.get(), 2) for _ in range(count)]

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_connects_with_the_api_key_in_the_handshake_header_never_in_the_url(self, ws_connect):
        ws_connect.return_value = self.socket(PROBE_ORDER_SNAPSHOT)
        self.start()
        await self.received(1)
        args, kwargs = ws_connect.call_args
        url = args[0] if args else kwargs.get("url") or kwargs.get("ws_url")
        self.assertEqual(web_utils.wss_url(CONSTANTS.WS_ACCOUNT_PATH, CONSTANTS.DEFAULT_DOMAIN), url)
        self.assertNotIn(API_KEY, url)
        self.assertEqual(API_KEY, kwargs["headers"][CONSTANTS.API_KEY_HEADER])
        self.assertEqual(CONSTANTS.USER_AGENT, kwargs["headers"][CONSTANTS.USER_AGENT_HEADER])
        self.assertFalse(any(API_KEY in r.getMessage() for r in self.log_records))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_probe_snapshots_and_updates_are_forwarded_in_order(self, ws_connect):
        ws_connect.return_value = self.socket(PROBE_ORDER_SNAPSHOT, PROBE_BALANCE_SNAPSHOT, PROBE_POSITION_SNAPSHOT,
                                              dict(DOC_TRADE, seq=4))
        self.start()
        received = await self.received(4)
        self.assertEqual(["ORDER", "BALANCE", "POSITION", "TRADE"], [message["type"] for message in received])
        self.assertGreater(self.data_source.last_recv_time, 0)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_seq_gap_reconnects_then_queues_a_reconciliation(self, ws_connect):
        ws_connect.side_effect = [
            self.socket(PROBE_ORDER_SNAPSHOT, PROBE_BALANCE_SNAPSHOT, DOC_TRADE),  # seq 1, 2, then 5: gap
            self.socket(PROBE_ORDER_SNAPSHOT),
        ]
        with patch.object(ExtendedPerpetualUserStreamDataSource, "_sleep", new=self.fake_sleep):
            self.start()
            received = await self.received(4)
        self.assertEqual(["ORDER", "BALANCE", messages.RECONCILE, "ORDER"], [message["type"] for message in received])
        self.assertEqual(2, ws_connect.call_count)
        self.assertTrue(self.logged("WARNING", "sequence gap: expected seq 3, received 5"))
        self.assertEqual([CONSTANTS.WS_RECONNECT_INITIAL_DELAY], self.sleeps)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_failed_connections_back_off_exponentially_up_to_the_maximum(self, ws_connect):
        attempts = 8
        ws_connect.side_effect = [ConnectionError("refused")] * attempts + [self.socket(PROBE_ORDER_SNAPSHOT)]
        with patch.object(ExtendedPerpetualUserStreamDataSource, "_sleep", new=self.fake_sleep):
            self.start()
            received = await self.received(1)
        self.assertEqual(["ORDER"], [message["type"] for message in received])  # first connection: snapshots only
        self.assertEqual([1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0], self.sleeps)
        self.assertEqual(30.0, self.data_source._reconnect_delay)  # a message alone does not prove the socket stable

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_only_a_connection_that_lived_long_resets_the_reconnection_delay(self, ws_connect):
        # three sockets closed right after their snapshot (flapping), then one that lived 30 s, then one left open
        ws_connect.side_effect = [self.socket(PROBE_ORDER_SNAPSHOT, close=True) for _ in range(4)] + [
            self.socket(PROBE_ORDER_SNAPSHOT)]
        clock = iter([0.0, 0.1, 1.0, 1.1, 2.0, 2.1, 3.0, 33.0, 34.0])
        with patch.object(ExtendedPerpetualUserStreamDataSource, "_sleep", new=self.fake_sleep), \
                patch.object(ExtendedPerpetualUserStreamDataSource, "_monotonic", side_effect=lambda: next(clock)):
            self.start()
            await self.received(9)
        self.assertEqual([1.0, 2.0, 4.0, 1.0], self.sleeps)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_server_close_reconnects(self, ws_connect):
        ws_connect.side_effect = [self.socket(PROBE_ORDER_SNAPSHOT, close=True), self.socket(PROBE_ORDER_SNAPSHOT)]
        with patch.object(ExtendedPerpetualUserStreamDataSource, "_sleep", new=self.fake_sleep):
            self.start()
            received = await self.received(3)
        self.assertEqual(["ORDER", messages.RECONCILE, "ORDER"], [message["type"] for message in received])

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_rejected_handshake_is_retried_and_never_logs_the_key(self, ws_connect):
        request_info = aiohttp.RequestInfo(URL("wss://api.starknet.extended.exchange/account"), "GET",
                                           CIMultiDictProxy(CIMultiDict({CONSTANTS.API_KEY_HEADER: API_KEY})))
        ws_connect.side_effect = [aiohttp.WSServerHandshakeError(request_info, (), status=401, message="Unauthorized"),
                                  self.socket(PROBE_ORDER_SNAPSHOT)]
        with patch.object(ExtendedPerpetualUserStreamDataSource, "_sleep", new=self.fake_sleep):
            self.start()
            await self.received(1)
        self.assertEqual([CONSTANTS.WS_RECONNECT_INITIAL_DELAY], self.sleeps)
        text = " ".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                        for r in self.log_records)
        self.assertIn("401", text)
        self.assertNotIn(API_KEY, text)

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_silent_socket_is_reconnected(self, ws_connect):
        silent = self.socket(PROBE_ORDER_SNAPSHOT)
        self.mocking_assistant.add_websocket_aiohttp_exception(silent, asyncio.TimeoutError())
        ws_connect.side_effect = [silent, self.socket(PROBE_ORDER_SNAPSHOT)]
        with patch.object(ExtendedPerpetualUserStreamDataSource, "_sleep", new=self.fake_sleep):
            self.start()
            received = await self.received(3)
        self.assertEqual(["ORDER", messages.RECONCILE, "ORDER"], [message["type"] for message in received])
        self.assertTrue(self.logged("WARNING", "silent for 45 s"))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_cancellation_is_propagated(self, ws_connect):
        ws_connect.side_effect = asyncio.CancelledError()
        with self.assertRaises(asyncio.CancelledError):
            await self.data_source.listen_for_user_stream(self.output)
