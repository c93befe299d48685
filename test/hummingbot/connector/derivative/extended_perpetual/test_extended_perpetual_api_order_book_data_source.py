"""ExtendedPerpetualAPIOrderBookDataSource against mocked REST (aioresponses) and mocked sockets."""
import asyncio
import json
import os
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple
from unittest.mock import AsyncMock, patch

import aiohttp
from aioresponses import aioresponses
from bidict import bidict

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_markets as markets,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.funding_info import FundingInfo, FundingInfoUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.web_assistant.connections.rest_connection import RESTConnection
from hummingbot.core.web_assistant.connections.ws_connection import WSConnection
from test.hummingbot.connector.derivative.extended_perpetual.test_extended_perpetual_markets import (
    DOC_FUNDING_MESSAGE,
    DOC_INDEX_PRICE_MESSAGE,
    DOC_MARK_PRICE_MESSAGE,
    DOC_ORDER_BOOK_RESPONSE,
    DOC_ORDER_BOOK_SNAPSHOT_MESSAGE,
    DOC_PUBLIC_TRADES_MESSAGE,
    DOC_STATS_RESPONSE,
    market_item,
    markets_response,
)
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

STREAM_BASE = "wss://api.starknet.extended.exchange/stream.extended.exchange/v1"
MARKETS_RESPONSE = markets_response(
    market_item("BTC-USD", "BTC", last_price="42000"),
    market_item("ETH-USD", "ETH", last_price="3085.7"),
    market_item("OLD-USD", "OLD", status="DELISTED", active=False),
)
ALL_MARKETS_PATHS = ("/publicTrades", "/funding", "/prices/mark", "/prices/index")  # one socket each, all pairs


class FakeConnector:
    """The two symbol-mapping methods the data source uses, fed by the markets module's own symbol map."""

    def __init__(self, markets_payload: Dict[str, Any] = MARKETS_RESPONSE):
        self.symbol_map: bidict = markets.symbol_map_from_markets(markets.parse_markets(markets_payload))

    async def exchange_symbol_associated_to_pair(self, trading_pair: str) -> str:
        return self.symbol_map.inverse[trading_pair]

    async def trading_pair_associated_to_exchange_symbol(self, symbol: str) -> str:
        return self.symbol_map[symbol]


class FakeStreamSession:
    """Stands in for aiohttp's session on ws_connect: every handshake opens a new mocked socket, recorded."""

    def __init__(self, mocking_assistant: NetworkMockingAssistant):
        self._mocking_assistant = mocking_assistant
        self.handshakes: List[Tuple[str, Dict[str, Any], AsyncMock]] = []
        self.refuse_with: Optional[Exception] = None

    async def ws_connect(self, url: str, **kwargs) -> AsyncMock:
        if self.refuse_with is not None:
            self.handshakes.append((url, kwargs, None))
            raise self.refuse_with
        socket = self._mocking_assistant.create_websocket_mock()
        self.handshakes.append((url, kwargs, socket))
        return socket

    def sockets(self, path: str) -> List[AsyncMock]:
        return [socket for url, _, socket in self.handshakes if url.endswith(path) and socket is not None]

    def urls(self) -> List[str]:
        return [url for url, _, _ in self.handshakes]

    async def close(self):
        return None


class StubConnectionsFactory:
    def __init__(self, ws_session: FakeStreamSession, rest_session: aiohttp.ClientSession):
        self._ws_session, self._rest_session = ws_session, rest_session

    async def get_ws_connection(self) -> WSConnection:
        return WSConnection(aiohttp_client_session=self._ws_session)

    async def get_rest_connection(self) -> RESTConnection:
        return RESTConnection(aiohttp_client_session=self._rest_session)


async def eventually(predicate: Callable[[], bool], timeout: float = 2.0):
    """Lets the event loop run until ``predicate`` holds (fails the test after ``timeout``)."""
    async def wait():
        while not predicate():
            await asyncio.sleep(0.001)
    await asyncio.wait_for(wait(), timeout)


def book_message(seq: int, kind: str = "DELTA", bids=(), asks=(), market: str = "BTC-USD") -> Dict[str, Any]:
    return {"ts": 1701563440000 + seq, "type": kind, "seq": seq, "data": {
        "m": market, "b": [{"p": p, "q": q} for p, q in bids], "a": [{"p": p, "q": q} for p, q in asks]}}


def book_levels(order_book: OrderBook) -> Tuple[Dict[float, float], Dict[float, float]]:
    return ({row.price: row.amount for row in order_book.bid_entries()},
            {row.price: row.amount for row in order_book.ask_entries()})


class DataSourceTestBase(IsolatedAsyncioWrapperTestCase):
    trading_pairs = ["BTC-USD"]

    async def asyncSetUp(self):
        await super().asyncSetUp()
        env = patch.dict(os.environ, {}, clear=False)
        env.start()
        self.addCleanup(env.stop)
        os.environ.pop(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR, None)
        self.mocking_assistant = NetworkMockingAssistant()
        await self.mocking_assistant.async_init()
        self.streams = FakeStreamSession(self.mocking_assistant)
        self.rest_session = aiohttp.ClientSession()
        api_factory = web_utils.build_api_factory()
        api_factory._connections_factory = StubConnectionsFactory(self.streams, self.rest_session)
        self.connector = FakeConnector()
        self.data_source = ExtendedPerpetualAPIOrderBookDataSource(
            trading_pairs=list(self.trading_pairs), connector=self.connector, api_factory=api_factory)
        self.sleep_delays: List[float] = []
        self.funding_rate_periods: asyncio.Queue = asyncio.Queue()  # one item ends one funding-rate refresh period
        self.data_source._sleep = self.record_sleep
        self.tasks: List[asyncio.Task] = []
        self.output = {name: asyncio.Queue() for name in ("diff", "trade", "funding")}

    async def asyncTearDown(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.rest_session.close()
        await super().asyncTearDown()

    async def record_sleep(self, delay: float):
        if delay == self.data_source.FUNDING_RATE_REFRESH_SECONDS:  # a period ends when the test says so
            await self.funding_rate_periods.get()
            return
        self.sleep_delays.append(delay)
        await asyncio.sleep(0)

    def start(self, coroutine: Awaitable) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self.tasks.append(task)
        return task

    def start_listening(self):
        self.start(self.data_source.listen_for_subscriptions())
        self.start(self.data_source.listen_for_order_book_diffs(self.local_event_loop, self.output["diff"]))
        self.start(self.data_source.listen_for_trades(self.local_event_loop, self.output["trade"]))
        self.start(self.data_source.listen_for_funding_info(self.output["funding"]))

    async def socket(self, path: str, index: int = 0) -> AsyncMock:
        await eventually(lambda: len(self.streams.sockets(path)) > index)
        return self.streams.sockets(path)[index]

    async def send(self, socket: AsyncMock, *payloads: Any):
        for payload in payloads:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            self.mocking_assistant.add_websocket_aiohttp_message(socket, text)
        await self.mocking_assistant.run_until_all_aiohttp_messages_delivered(socket)

    async def next_output(self, name: str, timeout: float = 1.0):
        return await asyncio.wait_for(self.output[name].get(), timeout)

    async def diffs_applied(self, order_book: OrderBook, count: int):
        for _ in range(count):
            message: OrderBookMessage = await self.next_output("diff")
            self.assertIs(OrderBookMessageType.DIFF, message.type)
            order_book.apply_diffs(message.bids, message.asks, message.update_id)


class RestTests(DataSourceTestBase):
    @aioresponses()
    async def test_rest_snapshot_has_documented_levels_and_increasing_update_ids(self, http):
        url = web_utils.rest_url("/info/markets/BTC-USD/orderbook")
        http.get(url, payload=DOC_ORDER_BOOK_RESPONSE, repeat=True)
        first = await self.data_source._order_book_snapshot("BTC-USD")
        second = await self.data_source._order_book_snapshot("BTC-USD")
        self.assertIs(OrderBookMessageType.SNAPSHOT, first.type)
        self.assertEqual([(61827.7, 0.04852), (61820.5, 0.50274)], [(r.price, r.amount) for r in first.bids])
        self.assertEqual([(61840.3, 0.04852), (61864.1, 0.4998)], [(r.price, r.amount) for r in first.asks])
        self.assertGreater(second.update_id, first.update_id)
        [request] = http.requests[("GET", aiohttp.client.URL(url))][:1]
        self.assertEqual(CONSTANTS.USER_AGENT, request.kwargs["headers"][CONSTANTS.USER_AGENT_HEADER])

    @aioresponses()
    async def test_new_order_book_from_rest_before_any_stream_snapshot(self, http):
        http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"), payload=DOC_ORDER_BOOK_RESPONSE)
        order_book = await self.data_source.get_new_order_book("BTC-USD")
        self.assertEqual(61827.7, order_book.get_price(False))
        self.assertEqual(61840.3, order_book.get_price(True))

    def requests_to(self, http, path: str) -> int:
        return len(http.requests.get(("GET", aiohttp.client.URL(web_utils.rest_url(path))), []))

    @aioresponses()
    async def test_funding_info_of_every_pair_from_one_markets_answer_shared_within_the_window(self, http):
        eth = market_item("ETH-USD", "ETH")
        eth["marketStats"].update(markPrice="3088.4", indexPrice="3089.5", fundingRate="-0.000059",
                                  nextFundingRate=1716192000000)
        http.get(web_utils.rest_url("/info/markets"), payload=markets_response(market_item("BTC-USD", "BTC"), eth),
                 repeat=True)
        now = 1700000000.0
        self.data_source._time = lambda: now
        btc, eth_info = await asyncio.gather(self.data_source.get_funding_info("BTC-USD"),
                                             self.data_source.get_funding_info("ETH-USD"))
        self.assertEqual((Decimal("0.001"), 1701563440, Decimal("39950"), Decimal("39940")),
                         (btc.rate, btc.next_funding_utc_timestamp, btc.mark_price, btc.index_price))
        self.assertEqual(("ETH-USD", Decimal("-0.000059"), 1716192000, Decimal("3088.4"), Decimal("3089.5")),
                         (eth_info.trading_pair, eth_info.rate, eth_info.next_funding_utc_timestamp,
                          eth_info.mark_price, eth_info.index_price))
        now += self.data_source.FUNDING_INFO_SHARE_SECONDS
        await self.data_source.get_funding_info("BTC-USD")  # still within the window: no request
        self.assertEqual(1, self.requests_to(http, "/info/markets"))
        now += 1
        await self.data_source.get_funding_info("BTC-USD")
        self.assertEqual(2, self.requests_to(http, "/info/markets"))

    @aioresponses()
    async def test_funding_info_from_the_stats_endpoint_for_a_market_listed_without_statistics(self, http):
        btc = market_item("BTC-USD", "BTC")
        del btc["marketStats"]
        http.get(web_utils.rest_url("/info/markets"), payload=markets_response(btc))
        http.get(web_utils.rest_url("/info/markets/BTC-USD/stats"), payload=DOC_STATS_RESPONSE)
        info = await self.data_source.get_funding_info("BTC-USD")
        self.assertEqual(Decimal("-0.000059"), info.rate)
        self.assertEqual(1716192000, info.next_funding_utc_timestamp)
        self.assertEqual(Decimal("3088.439710293828"), info.mark_price)
        self.assertEqual(Decimal("3089.556987078441"), info.index_price)

    @aioresponses()
    async def test_funding_info_request_failure_is_raised_and_the_next_call_asks_again(self, http):
        http.get(web_utils.rest_url("/info/markets"), status=503, body="down")
        http.get(web_utils.rest_url("/info/markets"), payload=MARKETS_RESPONSE)
        with self.assertRaises(IOError):
            await self.data_source.get_funding_info("BTC-USD")
        self.assertEqual(Decimal("39950"), (await self.data_source.get_funding_info("BTC-USD")).mark_price)

    @aioresponses()
    async def test_last_traded_prices_of_pairs_the_streams_cannot_price_from_one_cached_markets_answer(self, http):
        http.get(web_utils.rest_url("/info/markets"), payload=MARKETS_RESPONSE, repeat=True)
        now = 1700000000.0
        self.data_source._time = lambda: now
        prices = await self.data_source.get_last_traded_prices(["BTC-USD", "ETH-USD", "OLD-USD"])
        self.assertEqual({"BTC-USD": 42000.0, "ETH-USD": 3085.7}, prices)
        self.assertEqual([self.data_source.UNPRICED_PAIR_PAUSE], self.sleep_delays)  # OLD-USD has no price
        now += self.data_source.LAST_PRICE_CACHE_SECONDS
        self.assertEqual({"ETH-USD": 3085.7}, await self.data_source.get_last_traded_prices(["ETH-USD"]))
        self.assertEqual(1, self.requests_to(http, "/info/markets"))
        now += 1
        await self.data_source.get_last_traded_prices(["ETH-USD"])
        self.assertEqual(2, self.requests_to(http, "/info/markets"))

    @aioresponses()
    async def test_concurrent_last_price_requests_share_one_markets_request(self, http):
        http.get(web_utils.rest_url("/info/markets"), payload=MARKETS_RESPONSE, repeat=True)
        answers = await asyncio.gather(*(self.data_source.get_last_traded_prices([pair])
                                         for pair in ("BTC-USD", "ETH-USD", "BTC-USD")))
        self.assertEqual([{"BTC-USD": 42000.0}, {"ETH-USD": 3085.7}, {"BTC-USD": 42000.0}], answers)
        self.assertEqual(1, self.requests_to(http, "/info/markets"))

    @aioresponses()
    async def test_exchange_error_is_raised_not_turned_into_an_empty_book(self, http):
        http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"),
                 payload={"status": "ERROR", "error": {"code": "NOT_FOUND", "message": "Market not found"}})
        with self.assertRaisesRegex(IOError, "Market not found"):
            await self.data_source._order_book_snapshot("BTC-USD")


class OrderBookStreamTests(DataSourceTestBase):
    async def test_snapshot_then_additive_deltas_removing_and_adding_levels(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        order_book = OrderBook()
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, book_message(2, bids=[("25670", "0.25")]),
                        book_message(3, bids=[("25670", "-0.35"), ("25660", "0.2")], asks=[("25770", "0.05")]),
                        book_message(4, asks=[("25780", "0.1"), ("25780", "0.2"), ("25780", "-0.3")]))
        await self.diffs_applied(order_book, 4)
        bids, asks = book_levels(order_book)
        self.assertEqual({25660.0: 0.2}, bids)  # 0.1 + 0.25 - 0.35 is exactly zero: the level is gone
        self.assertEqual({25770.0: 0.15}, asks)  # 25780: 0.1 + 0.2 - 0.3 is exactly zero too

    async def test_diff_messages_read_like_hummingbots_own_and_replay_over_a_snapshot(self):
        """The rows are built once (``BookDiffMessage``); what the tracker reads is what Hummingbot's
        ``OrderBookMessage`` of the same content would give, and its replay path takes them too."""
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE,
                        book_message(2, bids=[("25670", "-0.1"), ("25660", "0.2")], asks=[("25770", "0.05")]))
        await self.next_output("diff")
        diff = await self.next_output("diff")
        plain = OrderBookMessage(OrderBookMessageType.DIFF, {
            "trading_pair": "BTC-USD", "update_id": diff.update_id,
            "bids": [(row.price, row.amount) for row in diff.bids],
            "asks": [(row.price, row.amount) for row in diff.asks]}, diff.timestamp)
        self.assertEqual((plain.bids, plain.asks, plain.trading_pair), (diff.bids, diff.asks, diff.trading_pair))
        self.assertEqual([(25670.0, 0.0), (25660.0, 0.2)], [(row.price, row.amount) for row in diff.bids])
        snapshot = OrderBookMessage(OrderBookMessageType.SNAPSHOT, {
            "trading_pair": "BTC-USD", "update_id": diff.update_id - 1, "bids": [(25670.0, 0.1)],
            "asks": [(25770.0, 1.0)]}, diff.timestamp - 1)
        for replayed in (diff, plain):
            order_book = OrderBook()
            order_book.restore_from_snapshot_and_diffs(snapshot, [replayed])
            self.assertEqual(({25660.0: 0.2}, {25770.0: 0.15}), book_levels(order_book))  # absolute levels

    async def test_seq_gap_drops_the_connection_and_the_fresh_snapshot_replaces_the_book(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        order_book = OrderBook()
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, book_message(2, bids=[("25600", "1")]))
        await self.diffs_applied(order_book, 2)
        await self.send(socket, book_message(4, bids=[("25500", "9")]))  # seq 3 is missing
        fresh = await self.socket("/orderbooks/BTC-USD", index=1)
        await self.send(fresh, book_message(1, "SNAPSHOT", bids=[("25650", "2")], asks=[("25700", "1")]))
        await self.diffs_applied(order_book, 1)
        self.assertEqual(({25650.0: 2.0}, {25700.0: 1.0}), book_levels(order_book))
        self.assertEqual([CONSTANTS.WS_RECONNECT_INITIAL_DELAY], self.sleep_delays)
        self.assertTrue(self.output["diff"].empty())

    async def test_a_new_connection_snapshot_gets_a_higher_update_id_than_everything_before(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, book_message(2, bids=[("1", "1")]),
                        book_message(4))
        fresh = await self.socket("/orderbooks/BTC-USD", index=1)
        await self.send(fresh, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE)
        ids = [(await self.next_output("diff")).update_id for _ in range(3)]
        self.assertEqual(sorted(ids), ids)
        self.assertEqual(3, len(set(ids)))

    async def test_unparseable_frames_are_logged_and_skipped_on_the_same_connection(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        order_book = OrderBook()
        with self.assertLogs(level="WARNING") as logs:
            await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, "{not json", {"type": "DELTA"}, [1, 2],
                            book_message(2, bids=[("25670", "0.4")]))
            await self.diffs_applied(order_book, 2)
        self.assertEqual({25670.0: 0.5}, book_levels(order_book)[0])
        self.assertEqual(1, len(self.streams.sockets("/orderbooks/BTC-USD")))
        self.assertTrue(any("not json" in line for line in logs.output))

    async def test_malformed_book_message_is_logged_skipped_and_the_book_resynchronised(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        order_book = OrderBook()
        with self.assertLogs(level="WARNING") as logs:
            await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, book_message(2, "FULL"),
                            book_message(3, bids=[("25670", "0.4")]))  # would build on a book with a hole
            fresh = await self.socket("/orderbooks/BTC-USD", index=1)
        self.assertTrue(any("FULL" in line for line in logs.output))
        await self.send(fresh, book_message(1, "SNAPSHOT", bids=[("25600", "1")]),
                        book_message(2, bids=[("25600", "-0.25"), ("25590", "2")]))
        await self.diffs_applied(order_book, 3)
        self.assertEqual(({25600.0: 0.75, 25590.0: 2.0}, {}), book_levels(order_book))
        self.assertTrue(self.output["diff"].empty())

    async def test_delta_below_zero_resynchronises_the_book(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        with self.assertLogs(level="WARNING"):
            await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, book_message(2, bids=[("25670", "-0.2")]),
                            book_message(3, asks=[("25770", "1")]))
            await self.socket("/orderbooks/BTC-USD", index=1)
        self.assertEqual(1, self.output["diff"].qsize())  # only the snapshot: nothing built on the bad book

    async def test_sizes_finer_than_the_book_are_added_exactly_and_too_fine_ones_resynchronise(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        order_book = OrderBook()
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE,
                        book_message(2, bids=[("25670", "0.00000001"), ("25670", "-0.10000001")],
                                     asks=[("25770", "1e-3"), ("25780", "1234567.1234")]))
        await self.diffs_applied(order_book, 2)
        self.assertEqual(({}, {25770.0: 0.101, 25780.0: 1234567.1234}), book_levels(order_book))
        with self.assertLogs(level="WARNING"):
            await self.send(socket, book_message(3, asks=[("25770", "0.0000000000000000001")]))
            await self.socket("/orderbooks/BTC-USD", index=1)
        self.assertTrue(self.output["diff"].empty())

    async def test_new_order_book_after_streaming_is_the_streamed_book(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, book_message(2, asks=[("25780", "3")]))
        await eventually(lambda: self.output["diff"].qsize() == 2)
        order_book = await self.data_source.get_new_order_book("BTC-USD")  # no REST mocked: must not be called
        self.assertEqual(({25670.0: 0.1}, {25770.0: 0.1, 25780.0: 3.0}), book_levels(order_book))


class TradeAndFundingStreamTests(DataSourceTestBase):
    async def test_public_trades_keep_taker_side_id_and_trade_type(self):
        self.start_listening()
        socket = await self.socket("/publicTrades")
        liquidation = {"ts": 1, "seq": 3, "data": [
            {"m": "BTC-USD", "S": "SELL", "tT": "LIQUIDATION", "T": 1701563441000, "p": "25600", "q": "2", "i": 25125}]}
        await self.send(socket, {**DOC_PUBLIC_TRADES_MESSAGE, "seq": 1}, liquidation)
        buy, sell = await self.next_output("trade"), await self.next_output("trade")
        self.assertEqual((float(TradeType.BUY.value), 25124, Decimal("25670"), Decimal("0.1"), "TRADE"),
                         (buy.content["trade_type"], buy.trade_id, buy.content["price"], buy.content["amount"],
                          buy.content["exchange_trade_type"]))
        self.assertEqual("BTC-USD", buy.trading_pair)
        self.assertEqual(1701563440.0, buy.timestamp)
        self.assertEqual((float(TradeType.SELL.value), "LIQUIDATION"),
                         (sell.content["trade_type"], sell.content["exchange_trade_type"]))

    async def test_stale_trades_are_skipped_and_a_trade_gap_does_not_reconnect(self):
        self.start_listening()
        socket = await self.socket("/publicTrades")
        trade = DOC_PUBLIC_TRADES_MESSAGE["data"][0]
        await self.send(socket, {"ts": 1, "seq": 1, "data": [{**trade, "i": 1}]},
                        {"ts": 1, "seq": 3, "data": [{**trade, "i": 3}]},
                        {"ts": 1, "seq": 2, "data": [{**trade, "i": 2}]},
                        {"ts": 1, "seq": 4, "data": [{**trade, "i": 4}]})
        ids = [(await self.next_output("trade")).trade_id for _ in range(3)]
        self.assertEqual([1, 3, 4], ids)
        self.assertEqual(1, len(self.streams.sockets("/publicTrades")))

    async def test_mark_and_index_streams_update_funding_info_prices(self):
        self.start_listening()
        await self.send(await self.socket("/prices/mark"), DOC_MARK_PRICE_MESSAGE)
        mark: FundingInfoUpdate = await self.next_output("funding")
        await self.send(await self.socket("/prices/index"), DOC_INDEX_PRICE_MESSAGE)
        index: FundingInfoUpdate = await self.next_output("funding")
        self.assertEqual(FundingInfoUpdate("BTC-USD", mark_price=Decimal("25670")), mark)
        self.assertEqual(FundingInfoUpdate("BTC-USD", index_price=Decimal("25680")), index)

    async def test_applied_funding_advances_next_funding_time_by_an_hour_and_keeps_the_current_rate(self):
        self.start_listening()
        await self.send(await self.socket("/funding"), {**DOC_FUNDING_MESSAGE, "seq": 1})
        update: FundingInfoUpdate = await self.next_output("funding")
        # paid at 1701563440 s (00:30:40 past 1701561600, an hour boundary): next funding is 1701565200
        self.assertEqual(FundingInfoUpdate("BTC-USD", next_funding_utc_timestamp=1701561600 + 3600), update)
        self.assertIsNone(update.rate)

    async def test_unknown_funding_message_type_is_logged_and_skipped(self):
        self.start_listening()
        socket = await self.socket("/prices/mark")
        with self.assertLogs(level="ERROR"):
            await self.send(socket, {**DOC_MARK_PRICE_MESSAGE, "type": "XX"},
                            {**DOC_MARK_PRICE_MESSAGE, "seq": 2})
            update = await self.next_output("funding")
        self.assertEqual(Decimal("25670"), update.mark_price)

    async def test_a_mark_price_gap_reconnects_that_stream_only_and_a_funding_gap_none(self):
        self.start_listening()
        mark = await self.socket("/prices/mark")
        with self.assertLogs(level="WARNING") as logs:
            await self.send(mark, DOC_MARK_PRICE_MESSAGE, {**DOC_MARK_PRICE_MESSAGE, "seq": 3})
            fresh = await self.socket("/prices/mark", index=1)
        self.assertTrue(any("all-markets mark price stream: seq 3 after 1" in line for line in logs.output))
        self.assertEqual([CONSTANTS.WS_RECONNECT_INITIAL_DELAY], self.sleep_delays)
        await self.send(fresh, {**DOC_MARK_PRICE_MESSAGE, "data": {**DOC_MARK_PRICE_MESSAGE["data"], "p": "25700"}})
        self.assertEqual([Decimal("25670"), Decimal("25700")],
                         [(await self.next_output("funding")).mark_price for _ in range(2)])
        funding = await self.socket("/funding")
        await self.send(funding, {**DOC_FUNDING_MESSAGE, "seq": 1}, {**DOC_FUNDING_MESSAGE, "seq": 3})
        self.assertEqual(2, len([await self.next_output("funding") for _ in range(2)]))
        for path in ("/orderbooks/BTC-USD", "/publicTrades", "/funding", "/prices/index"):
            self.assertEqual(1, len(self.streams.sockets(path)), path)

    async def test_all_markets_messages_without_market_are_logged_and_skipped(self):
        self.start_listening()
        trades = await self.socket("/publicTrades")
        trade = DOC_PUBLIC_TRADES_MESSAGE["data"][0]
        with self.assertLogs(level="WARNING") as logs:
            await self.send(trades, {"ts": 1, "seq": 1, "data": "oops"},
                            {"ts": 1, "seq": 2, "data": [{**trade, "i": 1, "m": None}, {**trade, "i": 2}]})
            self.assertEqual(2, (await self.next_output("trade")).trade_id)
        self.assertEqual(2, len(logs.output))
        self.assertEqual(1, len(self.streams.sockets("/publicTrades")))


class FundingRateRefreshTests(DataSourceTestBase):
    trading_pairs = ["BTC-USD", "ETH-USD"]

    def markets_with_rates(self, btc_rate: str, eth_rate: str) -> Dict[str, Any]:
        btc, eth = market_item("BTC-USD", "BTC"), market_item("ETH-USD", "ETH")
        btc["marketStats"]["fundingRate"], eth["marketStats"]["fundingRate"] = btc_rate, eth_rate
        return markets_response(btc, eth)

    async def next_rates(self) -> Dict[str, FundingInfoUpdate]:
        updates = [await self.next_output("funding") for _ in self.trading_pairs]
        return {update.trading_pair: update for update in updates}

    @aioresponses()
    async def test_every_period_brings_the_current_rate_of_each_streamed_pair(self, http):
        url = web_utils.rest_url("/info/markets")
        http.get(url, payload=self.markets_with_rates("0.0001", "-0.00002"))
        http.get(url, payload=self.markets_with_rates("0.00013", "0.00004"))
        now = 1700000000.0
        self.data_source._time = lambda: now
        self.start_listening()
        await eventually(lambda: len(self.streams.sockets("/orderbooks/ETH-USD")) == 1)
        self.assertTrue(self.output["funding"].empty())  # nothing before the first period ends
        self.funding_rate_periods.put_nowait(None)
        first = await self.next_rates()
        self.assertEqual(FundingInfoUpdate("BTC-USD", rate=Decimal("0.0001")), first["BTC-USD"])
        self.assertEqual(FundingInfoUpdate("ETH-USD", rate=Decimal("-0.00002")), first["ETH-USD"])
        now += self.data_source.FUNDING_RATE_REFRESH_SECONDS
        self.funding_rate_periods.put_nowait(None)
        second = await self.next_rates()
        self.assertEqual((Decimal("0.00013"), Decimal("0.00004")), (second["BTC-USD"].rate, second["ETH-USD"].rate))
        self.assertEqual(2, len(http.requests[("GET", aiohttp.client.URL(url))]))  # one request per period
        info = FundingInfo("BTC-USD", index_price=Decimal("1"), mark_price=Decimal("2"),
                           next_funding_utc_timestamp=3, rate=Decimal("0.0001"))
        info.update(second["BTC-USD"])
        self.assertEqual((Decimal("0.00013"), Decimal("2"), Decimal("1"), 3),
                         (info.rate, info.mark_price, info.index_price, info.next_funding_utc_timestamp))

    @aioresponses()
    async def test_a_failed_refresh_is_logged_and_the_next_period_brings_the_rate(self, http):
        url = web_utils.rest_url("/info/markets")
        http.get(url, status=500, body="oops")
        http.get(url, payload={"status": "OK", "data": "not a list"})
        http.get(url, payload=self.markets_with_rates("0.0002", "0.0003"))
        self.data_source._time = iter(range(1700000000, 1700100000, 100)).__next__  # every answer is stale
        self.start_listening()
        await eventually(lambda: len(self.streams.sockets("/orderbooks/ETH-USD")) == 1)
        for _ in range(2):
            with self.assertLogs(level="WARNING") as logs:
                self.funding_rate_periods.put_nowait(None)
                await eventually(lambda: self.funding_rate_periods.empty() and any(
                    "funding rates could not be refreshed" in line for line in logs.output))
        self.funding_rate_periods.put_nowait(None)
        rates = await self.next_rates()
        self.assertEqual((Decimal("0.0002"), Decimal("0.0003")), (rates["BTC-USD"].rate, rates["ETH-USD"].rate))

    @aioresponses()
    async def test_a_pair_missing_from_the_answer_or_without_statistics_gets_no_update(self, http):
        btc = market_item("BTC-USD", "BTC")
        del btc["marketStats"]
        http.get(web_utils.rest_url("/info/markets"), payload=markets_response(btc))
        self.start_listening()
        await eventually(lambda: len(self.streams.sockets("/orderbooks/ETH-USD")) == 1)
        self.funding_rate_periods.put_nowait(None)
        await eventually(lambda: self.funding_rate_periods.empty() and len(http.requests) == 1)
        self.funding_rate_periods.put_nowait(None)  # the loop lives on: it waits for the next period
        await eventually(lambda: self.funding_rate_periods.empty())
        self.assertTrue(self.output["funding"].empty())

    async def test_cancelling_the_funding_listener_stops_the_refresh(self):
        before = asyncio.all_tasks()
        listener = self.start(self.data_source.listen_for_funding_info(self.output["funding"]))
        await asyncio.sleep(0)  # the listener's first step starts the refresher
        started = asyncio.all_tasks() - before
        self.assertEqual(2, len(started))  # the listener and its refresher (waiting for its period)
        listener.cancel()
        await asyncio.gather(*started, return_exceptions=True)
        self.assertTrue(all(task.cancelled() for task in started))


class StreamPricesTests(DataSourceTestBase):
    trading_pairs = ["BTC-USD", "ETH-USD"]

    async def test_last_traded_prices_from_the_trades_stream_else_the_mark_stream_without_rest(self):
        self.start_listening()  # no REST mocked (aioresponses would refuse it anyway): must not be called
        trade = DOC_PUBLIC_TRADES_MESSAGE["data"][0]
        await self.send(await self.socket("/prices/mark"), DOC_MARK_PRICE_MESSAGE,
                        {**DOC_MARK_PRICE_MESSAGE, "seq": 2, "data": {"m": "ETH-USD", "p": "3090.5", "ts": 1}})
        await self.send(await self.socket("/publicTrades"), {"ts": 1, "seq": 1, "data": [
            {**trade, "p": "25600", "i": 1}, {**trade, "p": "25610", "i": 2}]})
        await eventually(lambda: self.output["trade"].qsize() == 2 and self.output["funding"].qsize() == 2)
        with aioresponses() as http:
            prices = await self.data_source.get_last_traded_prices(["BTC-USD", "ETH-USD"])
        self.assertEqual({"BTC-USD": 25610.0, "ETH-USD": 3090.5}, prices)  # BTC: last trade; ETH: its mark
        self.assertEqual({}, http.requests)
        self.assertEqual([], self.sleep_delays)

    async def test_an_unsubscribed_pair_loses_its_stream_prices(self):
        self.start_listening()
        await self.send(await self.socket("/prices/mark"), DOC_MARK_PRICE_MESSAGE)
        await self.next_output("funding")
        await self.data_source.unsubscribe_from_trading_pair("BTC-USD")
        with aioresponses() as http:
            http.get(web_utils.rest_url("/info/markets"), payload=MARKETS_RESPONSE)
            self.assertEqual({"BTC-USD": 42000.0}, await self.data_source.get_last_traded_prices(["BTC-USD"]))


class MultiPairTests(DataSourceTestBase):
    trading_pairs = ["BTC-USD", "ETH-USD", "OLD-USD"]

    async def test_one_book_socket_per_tradable_pair_and_one_all_markets_socket_per_other_stream(self):
        with self.assertLogs(level="ERROR") as logs:
            self.start_listening()
            await eventually(lambda: len(self.streams.handshakes) == 6)
        expected = {STREAM_BASE + f"/orderbooks/{pair}" for pair in ("BTC-USD", "ETH-USD")}
        expected |= {STREAM_BASE + path for path in ALL_MARKETS_PATHS}
        self.assertEqual(expected, set(self.streams.urls()))
        self.assertEqual(6, len(self.streams.urls()))
        self.assertIn("OLD-USD", logs.output[0])

    async def test_all_markets_messages_reach_their_pair_and_other_markets_are_dropped(self):
        with self.assertLogs(level="ERROR"):
            self.start_listening()
            mark = await self.socket("/prices/mark")
        await self.send(mark, *[{**DOC_MARK_PRICE_MESSAGE, "seq": seq, "data": {"m": market, "p": price, "ts": 1}}
                                for seq, (market, price) in enumerate(
                                    [("SOL-USD", "150"), ("ETH-USD", "3000"), ("OLD-USD", "1"), ("BTC-USD", "25000")],
                                    start=1)])
        updates = [await self.next_output("funding") for _ in range(2)]
        self.assertEqual([("ETH-USD", Decimal("3000")), ("BTC-USD", Decimal("25000"))],
                         [(update.trading_pair, update.mark_price) for update in updates])
        trade = DOC_PUBLIC_TRADES_MESSAGE["data"][0]
        await self.send(await self.socket("/publicTrades"), {"ts": 1, "seq": 1, "data": [
            {**trade, "m": "ETH-USD", "i": 1}, {**trade, "m": "SOL-USD", "i": 2}, {**trade, "i": 3},
            {**trade, "m": "ETH-USD", "i": 4}]})
        trades = [await self.next_output("trade") for _ in range(3)]
        self.assertEqual([("ETH-USD", 1), ("ETH-USD", 4), ("BTC-USD", 3)],
                         [(trade.trading_pair, trade.trade_id) for trade in trades])
        await self.send(await self.socket("/funding"), {"ts": 1, "seq": 1, "data": [
            {"m": "SOL-USD", "T": 1701563440000, "f": "0.001"}, {"m": "ETH-USD", "T": 1701563440000, "f": "0.002"}]})
        applied = await self.next_output("funding")
        self.assertEqual(FundingInfoUpdate("ETH-USD", next_funding_utc_timestamp=1701561600 + 3600), applied)
        self.assertTrue(self.output["funding"].empty() and self.output["trade"].empty())

    async def test_book_messages_stay_with_their_pair(self):
        with self.assertLogs(level="ERROR"):
            self.start_listening()
            await eventually(lambda: len(self.streams.handshakes) == 6)
        await self.send(await self.socket("/orderbooks/ETH-USD"), book_message(1, "SNAPSHOT", bids=[("3000", "1")]))
        await self.send(await self.socket("/orderbooks/BTC-USD"), DOC_ORDER_BOOK_SNAPSHOT_MESSAGE)
        first, second = await self.next_output("diff"), await self.next_output("diff")
        self.assertEqual(("ETH-USD", [3000.0]), (first.trading_pair, [row.price for row in first.bids]))
        self.assertEqual(("BTC-USD", [25670.0]), (second.trading_pair, [row.price for row in second.bids]))


class SubscriptionTests(DataSourceTestBase):
    async def test_subscribe_while_running_opens_the_pair_book_and_widens_the_all_markets_filter(self):
        self.start_listening()
        await eventually(lambda: len(self.streams.handshakes) == 5)
        mark = await self.socket("/prices/mark")
        eth_mark = {**DOC_MARK_PRICE_MESSAGE, "data": {"m": "ETH-USD", "p": "3000", "ts": 1}}
        await self.send(mark, {**eth_mark, "seq": 1}, {**DOC_MARK_PRICE_MESSAGE, "seq": 2})
        self.assertEqual("BTC-USD", (await self.next_output("funding")).trading_pair)  # ETH-USD: not subscribed
        self.assertTrue(await self.data_source.subscribe_to_trading_pair("ETH-USD"))
        eth_book = await self.socket("/orderbooks/ETH-USD")
        await self.send(eth_book, book_message(1, "SNAPSHOT", bids=[("3000", "1")], market="ETH-USD"))
        self.assertEqual("ETH-USD", (await self.next_output("diff")).trading_pair)
        self.assertIn("ETH-USD", self.data_source._trading_pairs)
        await self.send(mark, {**eth_mark, "seq": 3})
        update = await self.next_output("funding")
        self.assertEqual(("ETH-USD", Decimal("3000")), (update.trading_pair, update.mark_price))

        btc_book_task = self.data_source._book_tasks["BTC-USD"]
        self.assertTrue(await self.data_source.unsubscribe_from_trading_pair("BTC-USD"))
        await eventually(btc_book_task.done)
        self.assertNotIn("BTC-USD", self.data_source._trading_pairs)
        await self.send(eth_book, book_message(2, bids=[("3000", "1")], market="ETH-USD"))
        self.assertEqual(2.0, (await self.next_output("diff")).bids[0].amount)
        await self.send(mark, {**DOC_MARK_PRICE_MESSAGE, "seq": 4}, {**eth_mark, "seq": 5})
        self.assertEqual("ETH-USD", (await self.next_output("funding")).trading_pair)  # BTC-USD filtered out now
        self.assertEqual(1, len(self.streams.sockets("/prices/mark")))  # the filter changed, not the socket
        self.assertEqual(6, len(self.streams.handshakes))
        self.assertFalse(await self.data_source.unsubscribe_from_trading_pair("BTC-USD"))

    async def test_subscribing_to_an_inactive_market_is_refused_without_opening_sockets(self):
        self.start_listening()
        await eventually(lambda: len(self.streams.handshakes) == 5)
        with self.assertLogs(level="ERROR"):
            self.assertFalse(await self.data_source.subscribe_to_trading_pair("OLD-USD"))
        self.assertNotIn("OLD-USD", self.data_source._trading_pairs)
        self.assertFalse(any("OLD-USD" in url for url in self.streams.urls()))

    async def test_cancelling_the_listener_closes_every_stream(self):
        listener = self.start(self.data_source.listen_for_subscriptions())
        await eventually(lambda: len(self.streams.handshakes) == 5)
        stream_tasks = [self.data_source._book_tasks["BTC-USD"], *self.data_source._all_markets_tasks.values()]
        self.assertEqual(5, len(stream_tasks))
        listener.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await listener
        await eventually(lambda: all(task.cancelled() for task in stream_tasks))
        self.assertEqual(0.0, self.data_source.last_recv_time)  # no socket left open


class ConnectionHygieneTests(DataSourceTestBase):
    async def test_handshake_is_wss_with_user_agent_heartbeat_and_receive_timeout(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE)
        url, kwargs, _ = self.streams.handshakes[0]
        self.assertTrue(url.startswith("wss://"))
        self.assertEqual(CONSTANTS.USER_AGENT, kwargs["headers"][CONSTANTS.USER_AGENT_HEADER])
        self.assertEqual(CONSTANTS.WS_HEARTBEAT_TIME_INTERVAL, kwargs["heartbeat"])
        self.assertEqual((CONSTANTS.WS_RECEIVE_TIMEOUT,), socket.receive.call_args.args)

    async def test_loopback_override_uses_plain_ws(self):
        os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = "http://127.0.0.1:8765"
        self.start_listening()
        await eventually(lambda: len(self.streams.handshakes) == 5)
        self.assertIn("ws://127.0.0.1:8765/stream.extended.exchange/v1/orderbooks/BTC-USD", self.streams.urls())

    async def test_server_ping_is_answered(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        self.mocking_assistant.add_websocket_aiohttp_message(socket, b"hb", aiohttp.WSMsgType.PING)
        await self.send(socket, DOC_ORDER_BOOK_SNAPSHOT_MESSAGE)
        socket.pong.assert_awaited_with(b"hb")

    async def test_dead_socket_timeout_reconnects_after_a_pause(self):
        self.start_listening()
        socket = await self.socket("/orderbooks/BTC-USD")
        self.mocking_assistant.add_websocket_aiohttp_exception(socket, asyncio.TimeoutError())
        await self.socket("/orderbooks/BTC-USD", index=1)
        self.assertEqual([CONSTANTS.WS_RECONNECT_INITIAL_DELAY], self.sleep_delays)

    async def test_refused_connections_back_off_exponentially_up_to_the_maximum(self):
        self.data_source.RECONNECT_INITIAL_DELAY, self.data_source.RECONNECT_MAX_DELAY = 0.5, 3.0
        self.streams.refuse_with = aiohttp.ClientConnectionError("refused")
        delays_seen = asyncio.Event()

        async def sleep_until_six_pauses(delay: float):
            self.sleep_delays.append(delay)
            if len(self.sleep_delays) == 6:
                delays_seen.set()
                await asyncio.get_running_loop().create_future()  # hold the stream here
        self.data_source._sleep = sleep_until_six_pauses
        kind = self.data_source._stream_kinds[0]
        self.start(self.data_source._run_stream(kind, "BTC-USD", "BTC-USD"))
        await asyncio.wait_for(delays_seen.wait(), 1)
        self.assertEqual([0.5, 1.0, 2.0, 3.0, 3.0, 3.0], self.sleep_delays)
        self.assertEqual(6, len(self.streams.handshakes))  # one attempt per pause: no hot loop

    async def test_cancelled_error_from_the_socket_propagates(self):
        self.streams.refuse_with = None
        kind = self.data_source._stream_kinds[0]
        stream = self.start(self.data_source._run_stream(kind, "BTC-USD", "BTC-USD"))
        socket = await self.socket("/orderbooks/BTC-USD")
        self.mocking_assistant.add_websocket_aiohttp_exception(socket, asyncio.CancelledError())
        with self.assertRaises(asyncio.CancelledError):
            await asyncio.wait_for(stream, 1)
        self.assertEqual([], self.sleep_delays)

    async def test_cancelled_error_in_a_parser_propagates_out_of_the_listener(self):
        self.data_source._parse_order_book_diff_message = AsyncMock(side_effect=asyncio.CancelledError())
        self.data_source._message_queue[self.data_source._diff_messages_queue_key].put_nowait(("BTC-USD", {}))
        with self.assertRaises(asyncio.CancelledError):
            await self.data_source.listen_for_order_book_diffs(self.local_event_loop, asyncio.Queue())
