"""The book Hummingbot's own OrderBookTracker ends up holding, fed by the Extended data source."""
import asyncio
from typing import Dict, Tuple
from unittest.mock import AsyncMock

import aiohttp
from aioresponses import aioresponses
from aioresponses.core import CallbackResult

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_web_utils as web_utils
from hummingbot.core.data_type.order_book_tracker import OrderBookTracker
from test.hummingbot.connector.derivative.extended_perpetual.test_extended_perpetual_api_order_book_data_source import (
    MARKETS_RESPONSE,
    DataSourceTestBase,
    book_levels,
    book_message,
    eventually,
)
from test.hummingbot.connector.derivative.extended_perpetual.test_extended_perpetual_markets import (
    DOC_ORDER_BOOK_RESPONSE,
)

Levels = Tuple[Dict[float, float], Dict[float, float]]


class TrackerTests(DataSourceTestBase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.http = aioresponses()
        self.http.start()
        self.addCleanup(self.http.stop)
        self.http.get(web_utils.rest_url("/info/markets"), payload=MARKETS_RESPONSE, repeat=True)
        self.tracker = OrderBookTracker(self.data_source, list(self.trading_pairs))
        self.tracker._sleep = AsyncMock()  # its one-second pause between initial books

    async def asyncTearDown(self):
        self.tracker.stop()
        await super().asyncTearDown()

    def tracker_book(self, trading_pair: str = "BTC-USD") -> Levels:
        return book_levels(self.tracker.order_books[trading_pair])

    async def tracker_book_becomes(self, expected: Levels, trading_pair: str = "BTC-USD"):
        try:
            await eventually(lambda: trading_pair in self.tracker.order_books
                             and self.tracker_book(trading_pair) == expected)
        except asyncio.TimeoutError:
            self.assertEqual(expected, self.tracker_book(trading_pair))

    async def test_rest_book_then_stream_then_gap_reconnect_leaves_exactly_the_exchange_book(self):
        self.http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"), payload=DOC_ORDER_BOOK_RESPONSE)
        self.tracker.start()
        await asyncio.wait_for(self.tracker.wait_ready(), 2)
        self.assertEqual(({61827.7: 0.04852, 61820.5: 0.50274}, {61840.3: 0.04852, 61864.1: 0.4998}),
                         self.tracker_book())

        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, book_message(1, "SNAPSHOT", bids=[("61827.7", "1"), ("61800", "2")],
                                             asks=[("61840.3", "1")]))
        await self.tracker_book_becomes(({61827.7: 1.0, 61800.0: 2.0}, {61840.3: 1.0}))  # REST-only levels gone

        await self.send(socket, book_message(2, bids=[("61800", "-0.5")], asks=[("61850", "1")]),
                        book_message(3, bids=[("61827.7", "-1")]))
        await self.tracker_book_becomes(({61800.0: 1.5}, {61840.3: 1.0, 61850.0: 1.0}))

        await self.send(socket, book_message(5, asks=[("61990", "7")]))  # seq 4 lost: reconnect
        fresh = await self.socket("/orderbooks/BTC-USD", index=1)
        await self.send(fresh, book_message(1, "SNAPSHOT", bids=[("61810", "3")], asks=[("61840.3", "2")]))
        await self.tracker_book_becomes(({61810.0: 3.0}, {61840.3: 2.0}))

    async def test_more_diffs_than_the_tracker_replay_window_then_reconnect_leaves_no_stale_level(self):
        self.http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"), payload=DOC_ORDER_BOOK_RESPONSE)
        self.tracker.start()
        await asyncio.wait_for(self.tracker.wait_ready(), 2)
        socket = await self.socket("/orderbooks/BTC-USD")
        deltas = [book_message(seq, bids=[(str(60000 + seq), "1")]) for seq in range(2, 50)]
        await self.send(socket, book_message(1, "SNAPSHOT", asks=[("62000", "1")]), *deltas)
        await eventually(lambda: len(self.tracker_book()[0]) == 48)
        self.mocking_assistant.add_websocket_aiohttp_message(socket, "", aiohttp.WSMsgType.CLOSE)  # server closes
        fresh = await self.socket("/orderbooks/BTC-USD", index=1)
        await self.send(fresh, book_message(1, "SNAPSHOT", bids=[("59000", "1")], asks=[("62000", "1")]))
        await self.tracker_book_becomes(({59000.0: 1.0}, {62000.0: 1.0}))

    async def test_delta_failing_part_way_leaves_no_stale_level_after_the_resync(self):
        self.http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"), payload=DOC_ORDER_BOOK_RESPONSE)
        self.tracker.start()
        await asyncio.wait_for(self.tracker.wait_ready(), 2)
        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, book_message(1, "SNAPSHOT", bids=[("61000", "1"), ("60900", "2")],
                                             asks=[("62000", "1")]))
        await self.tracker_book_becomes(({61000.0: 1.0, 60900.0: 2.0}, {62000.0: 1.0}))
        # the first change empties 61000 locally, the second is malformed: the whole message is dropped
        await self.send(socket, book_message(2, bids=[("61000", "-1"), ("60900", "not-a-size")]))
        fresh = await self.socket("/orderbooks/BTC-USD", index=1)
        # the exchange's book no longer has 61000 (the first change did happen there)
        await self.send(fresh, book_message(1, "SNAPSHOT", bids=[("60900", "2")], asks=[("62000", "1")]))
        await self.tracker_book_becomes(({60900.0: 2.0}, {62000.0: 1.0}))

    async def test_stream_snapshot_arriving_while_rest_is_in_flight_wins(self):
        rest_may_answer = asyncio.Event()

        async def slow_rest(url, **kwargs):
            await rest_may_answer.wait()
            return CallbackResult(payload=DOC_ORDER_BOOK_RESPONSE)
        self.http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"), callback=slow_rest)
        self.tracker.start()
        socket = await self.socket("/orderbooks/BTC-USD")
        await self.send(socket, book_message(1, "SNAPSHOT", bids=[("61000", "1")], asks=[("62000", "1")]),
                        book_message(2, asks=[("62000", "0.5")]))
        await eventually(lambda: self.data_source._local_books["BTC-USD"].streamed)
        rest_may_answer.set()
        await asyncio.wait_for(self.tracker.wait_ready(), 2)
        await self.tracker_book_becomes(({61000.0: 1.0}, {62000.0: 1.5}))

    async def test_pairs_added_and_removed_through_the_tracker_while_running(self):
        self.http.get(web_utils.rest_url("/info/markets/BTC-USD/orderbook"), payload=DOC_ORDER_BOOK_RESPONSE)
        eth_rest = {"status": "OK", "data": {"market": "ETH-USD", "bid": [{"qty": "5", "price": "3000"}], "ask": []}}
        self.http.get(web_utils.rest_url("/info/markets/ETH-USD/orderbook"), payload=eth_rest)
        self.tracker.start()
        await asyncio.wait_for(self.tracker.wait_ready(), 2)
        self.assertTrue(await self.tracker.add_trading_pair("ETH-USD"))
        eth = await self.socket("/orderbooks/ETH-USD")
        await self.send(eth, book_message(1, "SNAPSHOT", bids=[("3001", "1")], market="ETH-USD"))
        await self.tracker_book_becomes(({3001.0: 1.0}, {}), "ETH-USD")
        self.assertTrue(await self.tracker.remove_trading_pair("BTC-USD"))
        self.assertNotIn("BTC-USD", self.tracker.order_books)
        self.assertNotIn("BTC-USD", self.data_source._book_tasks)
        self.assertNotIn("BTC-USD", self.data_source._pairs_by_symbol.values())  # out of the all-markets filter
