"""The connector's trading paths over real loopback sockets, checked against the emulator's ledger."""
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.event.events import MarketEvent
from hummingbot.logger import NETWORK
from test.integration.harness import MARKET, PAIR, ConnectorTestCase, wait_until

QTY = Decimal("0.01")


class OrderLifecycleTests(ConnectorTestCase):

    async def test_limit_rests_then_partial_and_complete_fill_with_events(self):
        """A LIMIT buy inside the spread rests (created event, emulator NEW), a counterparty fills 40 % then the rest:
        two OrderFilled events with the ledger's trade ids / prices / fees, one BuyOrderCompleted, and the position
        and balance equal to the ledger's."""
        price = self.best(is_ask=False) + Decimal("0.1")
        oid = self.limit(True, QTY, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCreated), message="created event")
        self.assertEqual("NEW", (await self.wait_ledger_status(oid, "NEW"))["status"])
        self.assertTrue(self.connector.in_flight_orders[oid].is_open)

        self.mm_trade("SELL", Decimal("0.004"), price)
        await wait_until(lambda: len(self.fills()) == 1, message="first fill")
        self.assertEqual(Decimal("0.004"), self.connector.in_flight_orders[oid].executed_amount_base)
        self.assertEqual("PARTIALLY_FILLED", self.ledger_order(oid)["status"])

        self.mm_trade("SELL", Decimal("0.006"), price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed event")
        completed = self.event_log(MarketEvent.BuyOrderCompleted)[0]
        self.assertEqual(oid, completed.order_id)
        self.assertEqual(QTY, completed.base_asset_amount)
        self.assertEqual("FILLED", self.ledger_order(oid)["status"])
        self.assertEqual(2, len(self.fills()))
        ledger_trades = {str(t["id"]): t for t in self.ledger()["trades"]}
        self.assertEqual([False, False], [ledger_trades[f.exchange_trade_id]["isTaker"] for f in self.fills()])
        await self.wait_in_sync()
        self.assertEqual(QTY, self.connector_position())

    async def test_market_order_priced_from_book_is_ioc_and_fills(self):
        """A MARKET buy is sent as an IOC priced from the connector's book (best ask + slippage, within mark +5 %),
        fills at once against the book, and the position / balance equal the ledger's."""
        best_ask = self.best(is_ask=True)
        oid = self.market(True, QTY)
        order = await self.wait_ledger_status(oid, "FILLED")
        self.assertEqual("MARKET", order["type"])
        self.assertEqual("IOC", order["timeInForce"])
        tick = Decimal("0.1")
        mark = Decimal(self.emu.exchange.markets[MARKET].mark_price)
        slipped = best_ask * (1 + Decimal(CONSTANTS.DEFAULT_MARKET_ORDER_SLIPPAGE))
        bound = mark * (1 + Decimal(CONSTANTS.MARKET_ORDER_MAX_DEVIATION_FROM_MARK))
        expected = min((slipped / tick).to_integral_value(rounding=ROUND_CEILING) * tick,
                       (bound / tick).to_integral_value(rounding=ROUND_FLOOR) * tick)
        self.assertEqual(expected, Decimal(order["price"]))
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed event")
        await self.wait_in_sync()
        self.assertEqual(QTY, self.connector_position())

    async def test_limit_maker_rests_and_crossing_one_is_rejected_post_only_failed(self):
        """A post-only order below the ask rests with postOnly on the exchange; one at the ask is REJECTED by the
        exchange and the failure event carries the POST_ONLY_FAILED reason."""
        resting = self.limit(True, QTY, self.best(is_ask=False), OrderType.LIMIT_MAKER)
        ledger_order = await self.wait_ledger_status(resting, "NEW")
        self.assertTrue(ledger_order["postOnly"])

        crossing = self.limit(True, QTY, self.best(is_ask=True), OrderType.LIMIT_MAKER)
        await wait_until(lambda: self.event_log(MarketEvent.OrderFailure), message="failure event")
        failure = self.event_log(MarketEvent.OrderFailure)[0]
        self.assertEqual(crossing, failure.order_id)
        self.assertEqual(CONSTANTS.STATUS_REASON_POST_ONLY_FAILED, failure.error_type)
        self.assertIn(CONSTANTS.STATUS_REASON_POST_ONLY_FAILED, failure.error_message)
        self.assertEqual("REJECTED", self.ledger_order(crossing)["status"])
        self.assertEqual([], self.fills())
        self.assertIn(resting, self.connector.in_flight_orders)
        await self.wait_in_sync()

    async def test_reduce_only_close(self):
        """PositionAction.CLOSE is sent reduce-only: after opening 0.01 long, a CLOSE sell of 0.01 flattens the
        position on both sides (the emulator lists no position, nor does the connector)."""
        opened = self.market(True, QTY)
        await self.wait_ledger_status(opened, "FILLED")
        await wait_until(lambda: self.connector_position() == QTY, message="position opened")
        closing = self.market(False, QTY, position_action=PositionAction.CLOSE)
        order = await self.wait_ledger_status(closing, "FILLED")
        self.assertTrue(order["reduceOnly"])
        await wait_until(lambda: self.connector_position() == 0, message="position closed")
        self.assertEqual([], self.ledger()["positions"])
        self.assertEqual({}, self.connector.account_positions)
        await self.wait_in_sync()

    async def test_cancel(self):
        """Cancelling a resting order: OrderCancelled event, CANCELLED on the emulator, nothing left in flight."""
        oid = self.limit(False, QTY, self.best(is_ask=True) + Decimal("50"))
        await self.wait_ledger_status(oid, "NEW")
        await wait_until(lambda: self.connector.in_flight_orders[oid].exchange_order_id, message="exchange id")
        self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.event_log(MarketEvent.OrderCancelled), message="cancel event")
        self.assertEqual(oid, self.event_log(MarketEvent.OrderCancelled)[0].order_id)
        self.assertEqual("CANCELLED", self.ledger_order(oid)["status"])
        await self.wait_done(oid)
        await self.wait_in_sync()

    async def test_set_leverage_patches_the_exchange_and_a_refused_one_is_reported(self):
        """set_leverage(5) sends PATCH /user/leverage: the ledger shows 5 and so does the connector. 100 (above the
        market's max 50) is refused: logged as an error with the exchange's reason, nothing changes."""
        self.connector.set_leverage(PAIR, 5)
        await wait_until(lambda: self.ledger()["leverage"][MARKET] == "5", message="ledger leverage 5")
        await wait_until(lambda: self.connector.get_leverage(PAIR) == 5, message="connector leverage 5")
        self.assertEqual(1, self.emu.request_count(path_contains="/user/leverage", method="PATCH"))

        self.connector.set_leverage(PAIR, 100)
        await wait_until(lambda: self.log.contains("Error setting leverage 100", NETWORK), message="refusal logged")
        refusal = next(m for m in self.log.messages(NETWORK) if "Error setting leverage 100" in m)
        self.assertIn("exceeds max leverage", refusal)
        self.assertEqual("5", self.ledger()["leverage"][MARKET])
        self.assertEqual(5, self.connector.get_leverage(PAIR))

    async def test_funding_payment_event_equals_the_ledger_payment(self):
        """With a long position, one emulator funding run: one FundingPaymentCompleted event whose amount is the
        ledger payment (paid: negative), rate equal to the ledger's; the balance follows."""
        self.emu.set_funding_rate(MARKET, Decimal("0.0005"))
        opened = self.market(True, QTY)
        await self.wait_ledger_status(opened, "FILLED")
        await wait_until(lambda: self.connector_position() == QTY, message="position opened")
        initial_events = len(self.event_log(MarketEvent.FundingPaymentCompleted))
        payments = self.emu.run_funding()
        self.assertEqual(1, len(payments))
        await wait_until(lambda: len(self.event_log(MarketEvent.FundingPaymentCompleted)) > initial_events,
                         message="funding payment event")
        event = self.event_log(MarketEvent.FundingPaymentCompleted)[-1]
        self.assertEqual(PAIR, event.trading_pair)
        self.assertEqual(-Decimal(payments[0]["fundingFee"]), event.amount)
        self.assertLess(event.amount, 0)
        self.assertEqual(Decimal(payments[0]["fundingRate"]), event.funding_rate)
        self.assertEqual(1, len(self.event_log(MarketEvent.FundingPaymentCompleted)) - initial_events)
        await self.wait_in_sync()

    async def test_short_position_receives_positive_funding(self):
        """A short pays nothing when the rate is positive: it receives. The event amount is positive and equals the
        ledger payment; the position is negative on both sides."""
        self.emu.set_funding_rate(MARKET, Decimal("0.0005"))
        opened = self.market(False, QTY)
        await self.wait_ledger_status(opened, "FILLED")
        await wait_until(lambda: self.connector_position() == -QTY, message="short position opened")
        before = len(self.event_log(MarketEvent.FundingPaymentCompleted))
        payments = self.emu.run_funding()
        await wait_until(lambda: len(self.event_log(MarketEvent.FundingPaymentCompleted)) > before,
                         message="funding payment event")
        event = self.event_log(MarketEvent.FundingPaymentCompleted)[-1]
        self.assertGreater(event.amount, 0)
        self.assertEqual(-Decimal(payments[0]["fundingFee"]), event.amount)  # the emulator books a receipt < 0
        await self.wait_in_sync()
        self.assertEqual(-QTY, self.ledger_position())

    async def test_balance_and_position_equal_the_ledger_after_trading(self):
        """Several fills both ways (maker and taker): the connector's fills, position, entry price and balance
        equal the ledger's."""
        self.market(True, Decimal("0.02"))
        await wait_until(lambda: len(self.ledger()["trades"]) >= 1, message="first trade")
        price = self.best(is_ask=True) - Decimal("0.1")
        maker = self.limit(False, Decimal("0.005"), price)
        await self.wait_ledger_status(maker, "NEW")
        self.mm_trade("BUY", Decimal("0.005"), price)
        await self.wait_ledger_status(maker, "FILLED")
        await self.wait_in_sync()
        position = next(iter(self.connector.account_positions.values()))
        ledger_position = self.ledger()["positions"][0]
        self.assertEqual(Decimal(ledger_position["openPrice"]), position.entry_price)
        self.assertEqual(Decimal("0.015"), position.amount)
