"""REST + account stream lifecycle: NEW, partial fill, FILLED, TRADE, BALANCE, POSITION."""
from decimal import Decimal

from .helpers import KEY_A, KEY_B, EmulatorTestCase


class OrderLifecycleTest(EmulatorTestCase):
    async def _expect_fill_group(self, stream, status: str, qty: str) -> list:
        group = [await stream.next() for _ in range(4)]
        types = [m["type"] for m in group]
        self.assertEqual({"ORDER", "TRADE"}, set(types[:2]), types)
        self.assertEqual(["BALANCE", "POSITION"], types[2:])
        order_msg = group[types.index("ORDER")]
        trade_msg = group[types.index("TRADE")]
        self.assertEqual(status, order_msg["data"]["orders"][0]["status"])
        trade = trade_msg["data"]["trades"][0]
        self.assertEqual(qty, trade["qty"])
        self.assertFalse(trade["isTaker"])
        return group

    async def test_new_partial_filled_with_trades_balance_and_position(self):
        stream = await self.account_stream(KEY_A)
        snapshots = [await stream.next() for _ in range(3)]
        self.assertEqual([1, 2, 3], [m["seq"] for m in snapshots])
        status, answer = await self.place(self.order("BUY", "0.01", "97000.0"))
        self.assertEqual(200, status, answer)
        order_id = answer["data"]["id"]
        new = await stream.next()
        self.assertEqual(("ORDER", "NEW", order_id), (new["type"], new["data"]["orders"][0]["status"],
                                                      new["data"]["orders"][0]["id"]))
        margin = await stream.next()
        self.assertEqual(("BALANCE", "97.000000"), (margin["type"], margin["data"]["balance"]["initialMargin"]))
        self.assertEqual(200, (await self.place(self.order("SELL", "0.004", "97000.0", 1), KEY_B))[0])
        first = await self._expect_fill_group(stream, "PARTIALLY_FILLED", "0.004")
        self.assertEqual(200, (await self.place(self.order("SELL", "0.006", "97000.0", 1), KEY_B))[0])
        second = await self._expect_fill_group(stream, "FILLED", "0.006")
        seqs = [m["seq"] for m in snapshots + [new, margin] + first + second]
        self.assertEqual(list(range(1, 14)), seqs)
        position = second[3]["data"]["positions"][0]
        self.assertEqual(("LONG", "0.010", "97000"), (position["side"], position["size"], position["openPrice"]))
        balance = second[2]["data"]["balance"]
        self.assertEqual("99999.903000", balance["balance"])  # maker fee 0.01 * 97000 * 0.0001
        await self._check_rest_matches(order_id, answer["data"]["externalId"])

    async def _check_rest_matches(self, order_id: int, external_id: str):
        status, by_id = await self.rest("GET", f"/api/v1/user/orders/{order_id}", KEY_A)
        self.assertEqual((200, "FILLED", "0.010"), (status, by_id["data"]["status"], by_id["data"]["filledQty"]))
        self.assertEqual(Decimal("97000"), Decimal(by_id["data"]["averagePrice"]))
        status, by_ext = await self.rest("GET", f"/api/v1/user/orders/external/{external_id}", KEY_A)
        self.assertEqual([order_id], [o["id"] for o in by_ext["data"]])
        _, trades = await self.rest("GET", "/api/v1/user/trades", KEY_A)
        self.assertEqual(["0.006", "0.004"], [t["qty"] for t in trades["data"]])
        _, history = await self.rest("GET", "/api/v1/user/orders/history", KEY_A)
        self.assertEqual([order_id], [o["id"] for o in history["data"]])
        _, open_orders = await self.rest("GET", "/api/v1/user/orders", KEY_A)
        self.assertEqual([], open_orders["data"])
        ledger = self.emu.ledger(KEY_A)
        _, positions = await self.rest("GET", "/api/v1/user/positions", KEY_A)
        self.assertEqual(ledger["positions"], positions["data"])
        _, balance = await self.rest("GET", "/api/v1/user/balance", KEY_A)
        self.assertEqual(ledger["balance"], balance["data"])
        self.assertEqual(2, len(ledger["trades"]))

    async def test_taker_buy_walks_the_book_and_pays_taker_fee(self):
        _, best_ask = self.best()
        status, answer = await self.place(self.order("BUY", "0.3", str(best_ask + 100), time_in_force="IOC"))
        self.assertEqual(200, status, answer)
        await self.settle()
        order = self.emu.ledger(KEY_A)["orders"][0]
        self.assertIn(order["status"], ("FILLED", "CANCELLED"))
        trades = self.emu.ledger(KEY_A)["trades"]
        self.assertGreater(len(trades), 1)
        self.assertTrue(all(t["isTaker"] for t in trades))
        prices = [Decimal(t["price"]) for t in trades]
        self.assertEqual(sorted(prices), prices)  # best price first
        paid = sum(Decimal(t["fee"]) for t in trades)
        expected = sum(Decimal(t["price"]) * Decimal(t["qty"]) * Decimal("0.0005") for t in trades)
        self.assertAlmostEqual(float(expected), float(paid), places=5)

    async def test_both_fill_message_orders_happen_under_a_seed(self):
        stream = await self.account_stream(KEY_A)
        await stream.drain()
        orders_seen = set()
        for _ in range(8):
            await self.place(self.order("BUY", "0.001", "97000.0"))
            await self.place(self.order("SELL", "0.001", "97000.0", 1), KEY_B)
            messages = [m["type"] for m in await stream.drain()]
            fill_pair = [t for t in messages if t in ("ORDER", "TRADE")][-2:]
            orders_seen.add(tuple(fill_pair))
        self.assertEqual({("ORDER", "TRADE"), ("TRADE", "ORDER")}, orders_seen)

    async def test_position_close_realises_pnl(self):
        await self.place(self.order("BUY", "0.01", "97000.0"))
        await self.place(self.order("SELL", "0.01", "97000.0", 1), KEY_B)
        await self.settle()
        await self.place(self.order("SELL", "0.01", "97010.0"))  # inside the market makers' spread
        await self.place(self.order("BUY", "0.01", "97010.0", 1), KEY_B)
        await self.settle()
        ledger = self.emu.ledger(KEY_A)
        self.assertEqual([], ledger["positions"])
        closed = ledger["closedPositions"][0]
        self.assertEqual(("0.100000", "97010"), (closed["realisedPnl"], closed["exitPrice"]))
        fees = Decimal("0.01") * (Decimal("97000") + Decimal("97010")) * Decimal("0.0001")
        expected = (Decimal("100000") + Decimal("0.1") - fees).quantize(Decimal("0.000001"))
        self.assertEqual(expected, Decimal(ledger["balance"]["balance"]))
