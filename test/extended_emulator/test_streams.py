"""Stream shapes: account snapshots, order-book snapshot + deltas, public channels, ping/pong."""
import asyncio
from decimal import Decimal

import aiohttp

from .helpers import KEY_B, EmulatorTestCase, StreamReader


def apply_levels(book: dict, levels: list, additive: bool) -> None:
    for level in levels:
        price, qty = Decimal(level["p"]), Decimal(level["q"])
        book[price] = book.get(price, Decimal(0)) + qty if additive else qty
        if book[price] == 0:
            del book[price]


class AccountStreamTest(EmulatorTestCase):
    async def test_snapshots_order_balance_position_with_seq_1_2_3_then_quiet(self):
        await self.place(self.order("BUY", "0.001", "96000.0"))
        await self.settle()
        stream = await self.account_stream()
        first = [await stream.next() for _ in range(3)]
        self.assertEqual(["ORDER", "BALANCE", "POSITION"], [m["type"] for m in first])
        self.assertEqual([1, 2, 3], [m["seq"] for m in first])
        self.assertTrue(all(m["data"]["isSnapshot"] for m in first))
        self.assertEqual(["96000.0"], [o["price"] for o in first[0]["data"]["orders"]])
        self.assertEqual("100000.000000", first[1]["data"]["balance"]["balance"])
        self.assertEqual([], first[2]["data"]["positions"])
        self.assertEqual([], await stream.drain(0.2))

    async def test_seq_is_per_connection(self):
        one = await self.account_stream()
        await one.drain()
        await self.place(self.order("BUY", "0.001", "96000.0"))
        self.assertEqual(4, (await one.next())["seq"])
        two = await self.account_stream()
        self.assertEqual([1, 2, 3], [(await two.next())["seq"] for _ in range(3)])

    async def test_query_parameter_key_and_401_without_key(self):
        ws = await self.session.ws_connect(self.emu.ws_url + f"/account?X-API-KEY={KEY_B}")
        self.addAsyncCleanup(ws.close)
        self.assertEqual("ORDER", (await StreamReader(ws).next())["type"])
        with self.assertRaises(aiohttp.WSServerHandshakeError) as caught:
            await self.session.ws_connect(self.emu.ws_url + "/account")
        self.assertEqual(401, caught.exception.status)


class OrderBookStreamTest(EmulatorTestCase):
    async def test_snapshot_then_additive_deltas_equal_rest_book(self):
        stream = await self.public_stream("orderbooks/BTC-USD")
        snapshot = await stream.next()
        self.assertEqual(("SNAPSHOT", 1, "BTC-USD"), (snapshot["type"], snapshot["seq"], snapshot["data"]["m"]))
        bids, asks = {}, {}
        apply_levels(bids, snapshot["data"]["b"], additive=False)
        apply_levels(asks, snapshot["data"]["a"], additive=False)
        await self.place(self.order("BUY", "0.003", "97000.0"))
        await self.place(self.order("SELL", "0.5", "96900.0", 1), KEY_B)
        self.emu.step_market()
        self.emu.set_mark_price("BTC-USD", Decimal("97500.0"))
        await self.settle()
        deltas = await stream.drain()
        self.assertGreater(len(deltas), 2)
        self.assertEqual(list(range(2, 2 + len(deltas))), [d["seq"] for d in deltas])
        self.assertTrue(all(d["type"] == "DELTA" for d in deltas))
        self.assertTrue(any(Decimal(level["q"]) < 0 for d in deltas for level in d["data"]["b"] + d["data"]["a"]))
        for delta in deltas:
            apply_levels(bids, delta["data"]["b"], additive=True)
            apply_levels(asks, delta["data"]["a"], additive=True)
        _, rest = await self.rest("GET", "/api/v1/info/markets/BTC-USD/orderbook")
        self.assertEqual({Decimal(x["price"]): Decimal(x["qty"]) for x in rest["data"]["bid"]}, bids)
        self.assertEqual({Decimal(x["price"]): Decimal(x["qty"]) for x in rest["data"]["ask"]}, asks)
        self.assertGreater(min(asks), max(bids))

    async def test_all_markets_variant_sends_one_snapshot_per_market(self):
        stream = await self.public_stream("orderbooks")
        snapshots = [await stream.next() for _ in range(len(self.emu.exchange.markets))]
        self.assertEqual(set(self.emu.exchange.markets), {s["data"]["m"] for s in snapshots})
        self.emu.set_mark_price("ETH-USD", Decimal("3401.00"))
        delta = await stream.next()
        self.assertEqual(("DELTA", "ETH-USD"), (delta["type"], delta["data"]["m"]))

    async def test_depth_one_sends_top_of_book_snapshots(self):
        stream = await self.public_stream("orderbooks/BTC-USD?depth=1")
        first = await stream.next()
        best_bid, best_ask = self.best()
        self.assertEqual(("SNAPSHOT", 1, [str(best_bid)], [str(best_ask)]),
                         (first["type"], first["seq"], [b["p"] for b in first["data"]["b"]],
                          [a["p"] for a in first["data"]["a"]]))
        await self.place(self.order("BUY", "0.001", "96000.0"))  # not at the top: no message
        await self.place(self.order("BUY", "0.001", "97000.0"))  # new best bid
        update = await stream.next()
        self.assertEqual(("SNAPSHOT", 2, [{"p": "97000.0", "q": "0.001"}]),
                         (update["type"], update["seq"], update["data"]["b"]))
        self.assertEqual([], await stream.drain(0.1))


class PublicChannelsTest(EmulatorTestCase):
    async def test_trades_mark_index_funding_and_candles(self):
        trades = await self.public_stream("publicTrades/BTC-USD")
        mark = await self.public_stream("prices/mark/BTC-USD")
        index = await self.public_stream("prices/index")
        funding = await self.public_stream("funding/BTC-USD")
        candles = await self.public_stream("candles/BTC-USD/trades?interval=PT1M")
        self.assertEqual(("MP", "97000.0", 1), ((m := await mark.next())["type"], m["data"]["p"], m["seq"]))
        self.assertEqual("IP", (await index.next())["type"])
        self.assertEqual(([], 1), ((c := await candles.next())["data"], c["seq"]))
        _, best_ask = self.best()
        await self.place(self.order("BUY", "0.001", str(best_ask), time_in_force="IOC"))
        trade = (await trades.next())["data"][0]
        self.assertEqual(("BTC-USD", "BUY", "TRADE", "0.001"), (trade["m"], trade["S"], trade["tT"], trade["q"]))
        candle = (await candles.next())["data"][0]
        self.assertEqual((str(best_ask), "0.001"), (candle["c"], candle["v"]))
        self.emu.set_mark_price("BTC-USD", Decimal("97100.0"))
        self.assertEqual(("97100.0", 2), ((m := await mark.next())["data"]["p"], m["seq"]))
        self.emu.run_funding()
        record = (await funding.next())["data"]
        self.assertEqual(("BTC-USD", "0.0001"), (record["m"], record["f"]))


class PingPongTest(EmulatorTestCase):
    emulator_kwargs = {"ping_interval": 0.1, "pong_timeout": 0.15}

    async def test_silent_client_is_dropped_and_answering_client_is_kept(self):
        url = self.emu.ws_url + "/prices/mark/BTC-USD"
        silent = await self.session.ws_connect(url, autoping=False)
        polite = await self.session.ws_connect(url)  # aiohttp answers pings while someone reads
        self.addAsyncCleanup(silent.close)
        self.addAsyncCleanup(polite.close)
        polite_reader = asyncio.create_task(self._read_until_closed(polite))
        self.addCleanup(polite_reader.cancel)
        saw_ping = False
        while True:
            msg = await asyncio.wait_for(silent.receive(), 2.0)
            if msg.type == aiohttp.WSMsgType.PING:
                saw_ping = True
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        self.assertTrue(saw_ping)
        self.assertEqual(1011, silent.close_code)
        await asyncio.sleep(0.5)  # two more ping cycles
        self.assertFalse(polite_reader.done())
        self.assertEqual(1, len(self.emu.hub.connections))

    @staticmethod
    async def _read_until_closed(ws) -> None:
        async for _ in ws:
            continue

    async def test_client_ping_gets_pong(self):
        ws = await self.session.ws_connect(self.emu.ws_url + "/funding", autoping=False)
        self.addAsyncCleanup(ws.close)
        await ws.ping(b"hello")
        msg = await asyncio.wait_for(ws.receive(), 1.0)
        while msg.type == aiohttp.WSMsgType.PING:
            msg = await asyncio.wait_for(ws.receive(), 1.0)
        self.assertEqual((aiohttp.WSMsgType.PONG, b"hello"), (msg.type, msg.data))
