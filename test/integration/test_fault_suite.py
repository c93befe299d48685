"""The fault suite: every fault the emulator can inject, injected while the connector trades over loopback.

Each test ends with the connector's fills (one OrderFilled event per exchange trade id: none lost, none twice),
open orders, position and balance equal to the emulator's ledger, and bounds the REST requests / reconnections the
recovery cost (no hot loop). Book faults end with the tracker's book equal to the emulator's REST book.
"""
import asyncio
import time
from unittest import mock
from decimal import Decimal

from hummingbot.core.event.events import MarketEvent
from hummingbot.core.web_assistant.connections.rest_connection import RESTConnection
from test.integration.harness import MARKET, PAIR, ConnectorTestCase, wait_until

QTY = Decimal("0.01")
PART = Decimal("0.004")
REST = QTY - PART
ACCOUNT_WS = "/account"
BOOK_WS = "/orderbooks/"
# A reconciliation is a handful of requests (open orders, trades, positions, balance, an order lookup or two);
# the bound leaves room for one status poll and a retry, far below what a loop would send.
RECOVERY_REST_BUDGET = 25


class FaultTestCase(ConnectorTestCase):

    async def resting_buy(self, qty: Decimal = QTY) -> (str, Decimal):
        price = self.best(is_ask=False) + Decimal("0.1")
        oid = self.limit(True, qty, price)
        await self.wait_ledger_status(oid, "NEW")
        await wait_until(lambda: self.connector.in_flight_orders[oid].exchange_order_id, message="exchange order id")
        return oid, price

    async def wait_book_equals_emulator(self, timeout: float = 10.0):
        """The tracker's book equals the book the emulator serves over REST."""
        last = {}

        async def poll():
            last["emulator"] = await self.book_from_emulator_rest()
            last["connector"] = self.book_from_connector()
            return last["emulator"] == last["connector"]

        deadline = time.monotonic() + timeout
        while not await poll():
            if time.monotonic() > deadline:
                self.assertEqual(last["emulator"], last["connector"], "order book differs from the emulator's")
            await asyncio.sleep(0.05)

    def assert_rest_budget(self, since: float, budget: int = RECOVERY_REST_BUDGET):
        sent = self.client.rest_since(since)
        self.assertLessEqual(sent, budget, f"{sent} REST requests while recovering: "
                                           f"{dict(self.emu.requests_by_path(since))}")


class AccountStreamFaultTests(FaultTestCase):

    async def test_account_socket_dropped_in_the_middle_of_a_fill(self):
        """The account socket closes after 1, 2, then 3 messages of a fill (ORDER / TRADE / BALANCE / POSITION, in
        either order), and the rest of the fill plus a whole second fill are lost with it: the reconnection's REST
        reconciliation recovers them. Each round: one reconnection, every trade once, ledger equality."""
        for round_number, after in enumerate((1, 2, 3), start=1):
            with self.subTest(after_messages=after):
                oid, price = await self.resting_buy()
                since = time.monotonic()
                self.assertEqual(1, self.emu.faults.drop_websockets("account", after_messages=after))
                self.mm_trade("SELL", PART, price)
                self.mm_trade("SELL", REST, price)
                await wait_until(lambda: len(self.event_log(MarketEvent.BuyOrderCompleted)) == round_number,
                                 message=f"order {oid} completed")
                await self.wait_in_sync()
                self.assertEqual(1, self.client.ws_connects_since(since, ACCOUNT_WS))
                self.assert_rest_budget(since)
        self.assertEqual(6, len(self.fills()))

    async def test_partial_fill_lost_with_the_socket_is_recovered_while_the_order_rests(self):
        """The socket drops right after a partial fill starts: the order is still open after the reconnection, its
        partial fill comes from the REST trades; the later completing fill arrives on the new socket, once."""
        oid, price = await self.resting_buy()
        since = time.monotonic()
        self.emu.faults.drop_websockets("account", after_messages=1)
        self.mm_trade("SELL", PART, price)
        await wait_until(lambda: self.connector.in_flight_orders[oid].executed_amount_base == PART,
                         message="partial fill recovered")
        self.assertTrue(self.connector.in_flight_orders[oid].is_open)
        await self.wait_in_sync()
        self.mm_trade("SELL", REST, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        self.assertEqual(1, self.client.ws_connects_since(since, ACCOUNT_WS))
        self.assert_rest_budget(since)

    async def test_account_seq_gap_reconnects_and_reconciles(self):
        """A skipped ``seq`` on the account stream: the connector drops the socket, reconnects once, reconciles
        over REST; the fill whose message carried the gap is counted once."""
        oid, price = await self.resting_buy()
        since = time.monotonic()
        self.assertEqual(1, self.emu.faults.skip_seq("account"))
        self.mm_trade("SELL", PART, price)
        await wait_until(lambda: self.client.ws_connects_since(since, ACCOUNT_WS) == 1, message="reconnection")
        await self.wait_in_sync()
        self.mm_trade("SELL", REST, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        self.assertEqual(1, self.client.ws_connects_since(since, ACCOUNT_WS))
        self.assert_rest_budget(since)

    async def test_market_order_and_cancel_while_the_account_socket_is_down(self):
        """The account socket drops just before a market order fills and a resting order is cancelled: both
        outcomes (the fill and the CANCELLED status) are recovered by the reconnection, each once."""
        resting = self.limit(False, QTY, self.best(is_ask=True) + Decimal("100"))
        await self.wait_ledger_status(resting, "NEW")
        await wait_until(lambda: self.connector.in_flight_orders[resting].exchange_order_id, message="exchange id")
        since = time.monotonic()
        self.emu.faults.drop_websockets("account")
        taker = self.market(True, QTY)
        self.connector.cancel(PAIR, resting)
        await self.wait_ledger_status(taker, "FILLED")
        await self.wait_ledger_status(resting, "CANCELLED")
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="market order completed")
        await wait_until(lambda: self.event_log(MarketEvent.OrderCancelled), message="cancelled event")
        await self.wait_done(resting)
        await self.wait_in_sync()
        self.assertEqual(1, len(self.event_log(MarketEvent.OrderCancelled)))
        self.assertLessEqual(self.client.ws_connects_since(since, ACCOUNT_WS), 1)
        self.assert_rest_budget(since)

    async def test_flapping_account_socket_backs_off(self):
        """For 3 s the server closes every account socket right after its snapshots: each connection delivers
        messages, yet the reconnection delay keeps growing (only a connection that lived STABLE_CONNECTION_SECONDS
        resets it), so the connector does not re-dial and reconcile over REST several times a second. After the
        flapping, a fill is still counted once."""
        oid, price = await self.resting_buy()
        seen = set()

        def drop_new_account_sockets():
            for connection in self.emu.hub.matching("account"):
                if id(connection) not in seen:  # its snapshots are already queued: close it right after them
                    seen.add(id(connection))
                    connection.queue.put_nowait(None)

        since = time.monotonic()
        while time.monotonic() - since < 3.0:  # the flapping period itself is what is measured
            drop_new_account_sockets()
            await asyncio.sleep(0.01)
        reconnects = self.client.ws_connects_since(since, ACCOUNT_WS)
        rest = self.client.rest_since(since)
        # backing off 0.05 s doubling to 0.4 s allows about 9 reconnections in 3 s, ~5 requests each; a delay reset
        # by every snapshot gives 20+ reconnections and 100+ requests
        self.assertLessEqual(reconnects, 12, f"{reconnects} reconnections in 3 s")
        self.assertLessEqual(rest, 60, f"{rest} REST requests in 3 s")
        self.mm_trade("SELL", QTY, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()

    async def test_malformed_and_unknown_type_account_messages_are_skipped(self):
        """Malformed JSON, a JSON array, an object without data and an unknown type on the account stream are
        skipped: no reconnection, no REST storm, and the fills that follow are all counted once."""
        oid, price = await self.resting_buy()
        since = time.monotonic()
        self.emu.faults.send_malformed("account")
        self.emu.faults.send_raw("account", "[1, 2, 3]")
        self.emu.faults.send_raw("account", '{"type": "TRADE"}')
        self.emu.faults.send_unknown_type("account")
        self.mm_trade("SELL", PART, price)
        self.mm_trade("SELL", REST, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        self.assertEqual(0, self.client.ws_connects_since(since, ACCOUNT_WS))
        self.assertLessEqual(self.client.rest_since(since), 5)


class PublicStreamFaultTests(FaultTestCase):

    async def test_book_equals_the_emulator_book_without_faults(self):
        """Baseline: the tracker's book follows the emulator's through market steps and trades."""
        for _ in range(5):
            self.emu.step_market()
        self.market(True, QTY)
        await wait_until(lambda: self.ledger()["trades"], message="trade")
        await self.wait_book_equals_emulator()

    async def test_order_book_seq_gap_resyncs_the_book(self):
        """A skipped ``seq`` on the order book stream: one reconnection, a fresh snapshot, and the tracker's book
        equals the emulator's after the book keeps moving."""
        since = time.monotonic()
        self.assertEqual(1, self.emu.faults.skip_seq("orderbooks"))
        for _ in range(3):
            self.emu.step_market()
        await wait_until(lambda: self.client.ws_connects_since(since, BOOK_WS) >= 1, message="book reconnection")
        self.emu.step_market()
        await self.wait_book_equals_emulator()
        self.assertEqual(1, self.client.ws_connects_since(since, BOOK_WS))
        self.assert_rest_budget(since, budget=5)

    async def test_malformed_and_unknown_book_messages(self):
        """Malformed JSON and an unknown-type message on the book stream: the book still ends equal to the
        emulator's, with at most one reconnection for a fresh snapshot."""
        since = time.monotonic()
        self.emu.faults.send_malformed("orderbooks")
        self.emu.faults.send_unknown_type("orderbooks")
        for _ in range(3):
            self.emu.step_market()
        await self.wait_book_equals_emulator()
        self.assertLessEqual(self.client.ws_connects_since(since, BOOK_WS), 1)
        self.assert_rest_budget(since, budget=5)

    async def test_one_book_socket_dropped(self):
        """The book socket alone is dropped (limit=1): it reconnects once and the book matches again."""
        since = time.monotonic()
        self.assertEqual(1, self.emu.faults.drop_websockets("orderbooks", limit=1))
        await wait_until(lambda: self.client.ws_connects_since(since, BOOK_WS) == 1, message="book reconnection")
        self.emu.step_market()
        await self.wait_book_equals_emulator()
        self.assertEqual(1, self.client.ws_connects_since(since, BOOK_WS))
        self.assertEqual(1, self.client.ws_connects_since(since))

    async def test_all_sockets_dropped_while_an_order_fills(self):
        """Every socket (account, book, trades, funding, prices) drops at once while a fill happens: the account
        is reconciled, each socket reconnects once, the book and the account equal the emulator's."""
        oid, price = await self.resting_buy()
        sockets = len(self.emu.hub.connections)
        since = time.monotonic()
        self.assertEqual(sockets, self.emu.faults.drop_websockets())
        self.mm_trade("SELL", PART, price)
        self.emu.step_market()
        await wait_until(lambda: len(self.emu.hub.connections) == sockets, message="all sockets back")
        self.mm_trade("SELL", REST, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        await self.wait_book_equals_emulator()
        self.assertLessEqual(self.client.ws_connects_since(since), sockets + 1)
        self.assert_rest_budget(since)

    async def test_funding_paid_while_every_socket_is_down(self):
        """Funding is paid while all sockets are down (its stream message is lost with them): the reconnection
        still produces exactly one FundingPaymentCompleted event equal to the ledger's payment, within seconds
        rather than at the next hourly poll."""
        self.emu.set_funding_rate(MARKET, Decimal("0.0005"))
        opened = self.market(True, QTY)
        await self.wait_ledger_status(opened, "FILLED")
        await wait_until(lambda: self.connector_position() == QTY, message="position opened")
        before = len(self.event_log(MarketEvent.FundingPaymentCompleted))
        sockets = len(self.emu.hub.connections)
        since = time.monotonic()
        self.emu.faults.drop_websockets()
        payments = self.emu.run_funding()
        await wait_until(lambda: len(self.event_log(MarketEvent.FundingPaymentCompleted)) > before,
                         message="funding payment event")
        await wait_until(lambda: len(self.emu.hub.connections) == sockets, message="all sockets back")
        events = self.event_log(MarketEvent.FundingPaymentCompleted)[before:]
        self.assertEqual(1, len(events))
        self.assertEqual(-Decimal(payments[0]["fundingFee"]), events[0].amount)
        await self.wait_in_sync()
        self.assert_rest_budget(since)

    async def test_funding_paid_while_only_the_funding_socket_is_down(self):
        """Only the funding socket is down as funding is paid (the account stream stays up): its reconnection
        makes the connector read the payments, so the event comes within seconds, not at the hourly poll."""
        self.emu.set_funding_rate(MARKET, Decimal("0.0005"))
        opened = self.market(True, QTY)
        await self.wait_ledger_status(opened, "FILLED")
        await wait_until(lambda: self.connector_position() == QTY, message="position opened")
        before = len(self.event_log(MarketEvent.FundingPaymentCompleted))
        self.assertEqual(1, self.emu.faults.drop_websockets("funding"))
        self.emu.run_funding()
        await wait_until(lambda: len(self.event_log(MarketEvent.FundingPaymentCompleted)) > before, timeout=3,
                         message="funding payment event")


class RestFaultTests(FaultTestCase):

    async def test_order_post_503_fails_the_order_then_trading_continues(self):
        """A 503 on the order POST: the outcome is unknown (a 5xx may follow an accepted order), so the order is
        looked up by its external id; never found, it fails (failure event), the emulator has no such order,
        nothing stays in flight; the next order goes through."""
        self.emu.faults.http(status=503, count=1, path_prefix="/api/v1/user/order")
        failed = self.limit(True, QTY, self.best(is_ask=False))
        await wait_until(lambda: self.event_log(MarketEvent.OrderFailure), message="failure event")
        self.assertEqual(failed, self.event_log(MarketEvent.OrderFailure)[0].order_id)
        self.assertIsNone(self.ledger_order(failed))
        self.assertNotIn(failed, self.connector.in_flight_orders)
        oid, _ = await self.resting_buy()
        await self.wait_in_sync()

    async def test_order_post_500_on_a_market_order_and_cancel_503_retried(self):
        """500 on a market order POST: failed, no trade. Then a 503 on the cancel of a resting order: the order
        stays open on both sides; a second cancel goes through (OrderCancelled, emulator CANCELLED)."""
        self.emu.faults.http(status=500, count=1, path_prefix="/api/v1/user/order")
        failed = self.market(True, QTY)
        await wait_until(lambda: self.event_log(MarketEvent.OrderFailure), message="failure event")
        self.assertEqual(failed, self.event_log(MarketEvent.OrderFailure)[0].order_id)
        self.assertEqual([], self.ledger()["trades"])

        oid = self.limit(False, QTY, self.best(is_ask=True) + Decimal("100"))
        await self.wait_ledger_status(oid, "NEW")
        await wait_until(lambda: self.connector.in_flight_orders[oid].exchange_order_id, message="exchange id")
        self.emu.faults.http(status=503, count=1, path_prefix="/api/v1/user/order")
        since = time.monotonic()
        self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.emu.faults.pending_http == 0, message="cancel answered 503")
        await wait_until(lambda: self.emu.request_count(since, "/user/order", "DELETE") == 1, message="cancel sent")
        self.assertEqual("NEW", self.ledger_order(oid)["status"])
        self.assertEqual([], self.event_log(MarketEvent.OrderCancelled))
        self.assertIn(oid, self.connector.in_flight_orders)
        self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.event_log(MarketEvent.OrderCancelled), message="cancelled event")
        self.assertEqual("CANCELLED", self.ledger_order(oid)["status"])
        await self.wait_done(oid)
        await self.wait_in_sync()
        self.assert_rest_budget(since, budget=10)

    async def test_429_on_the_order_post_backs_off_without_hot_loop(self):
        """A 429 on the order POST fails that order and starts a back-off: an order placed during the back-off fails
        at once without a request; after the back-off orders go through again. A 429 on the cancel: the cancel is
        retried after the back-off and succeeds."""
        self.emu.faults.http(status=429, count=1, path_prefix="/api/v1/user/order")
        since = time.monotonic()
        first = self.limit(True, QTY, self.best(is_ask=False))
        await wait_until(lambda: self.event_log(MarketEvent.OrderFailure), message="first failure")
        second = self.limit(True, QTY, self.best(is_ask=False))
        await wait_until(lambda: len(self.event_log(MarketEvent.OrderFailure)) == 2, message="second failure")
        self.assertEqual([first, second], [e.order_id for e in self.event_log(MarketEvent.OrderFailure)])
        self.assertIn("back-off", self.event_log(MarketEvent.OrderFailure)[1].error_message)
        self.assertEqual(1, self.emu.request_count(since, "/user/order", "POST"))
        await wait_until(lambda: self.connector._rate_limited_until < time.time(), message="back-off over")
        oid, _ = await self.resting_buy()

        self.emu.faults.http(status=429, count=1, path_prefix="/api/v1/user/order")
        self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.emu.faults.pending_http == 0, message="cancel answered 429")
        self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.event_log(MarketEvent.OrderCancelled), message="cancelled event")
        self.assertEqual("CANCELLED", self.ledger_order(oid)["status"])
        await self.wait_in_sync()
        self.assert_rest_budget(since, budget=15)

    async def test_delayed_order_post_and_cancel(self):
        """The order POST and the cancel answered 1.5 s late: the order is created (once) and cancelled."""
        self.emu.faults.http(status=None, delay=1.5, count=1, path_prefix="/api/v1/user/order")
        price = self.best(is_ask=False)
        oid = self.limit(True, QTY, price)
        await self.wait_ledger_status(oid, "NEW")
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCreated), message="created event")
        await wait_until(lambda: self.connector.in_flight_orders[oid].exchange_order_id, message="exchange id")
        self.emu.faults.http(status=None, delay=1.5, count=1, path_prefix="/api/v1/user/order")
        self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.event_log(MarketEvent.OrderCancelled), message="cancelled event")
        self.assertEqual(1, len([o for o in self.ledger()["orders"] if o["externalId"] == oid]))
        self.assertEqual("CANCELLED", self.ledger_order(oid)["status"])
        await self.wait_in_sync()

    async def test_order_created_but_its_answer_lost(self):
        """The order POST reaches the exchange but its answer is lost (the connection fails after the request was
        handled, simulated on the client side): the order stays tracked, the account stream's ORDER message gives it
        its exchange id, and its fill is counted once; no failure event."""
        real_call = RESTConnection.call
        lost = []

        async def lose_the_order_answer(connection, request, *args, **kwargs):
            response = await real_call(connection, request, *args, **kwargs)
            if request.method.name == "POST" and str(request.url).endswith("/user/order") and not lost:
                lost.append(request.url)
                raise ConnectionResetError("connection reset after the request was sent")
            return response

        price = self.best(is_ask=False) + Decimal("0.1")
        with mock.patch.object(RESTConnection, "call", lose_the_order_answer):
            oid = self.limit(True, QTY, price)
            await self.wait_ledger_status(oid, "NEW")
            await wait_until(lambda: lost, message="answer lost")
        await wait_until(lambda: (self.connector.in_flight_orders.get(oid) is not None
                                  and self.connector.in_flight_orders[oid].exchange_order_id), message="exchange id")
        self.assertEqual([], self.event_log(MarketEvent.OrderFailure))
        self.mm_trade("SELL", QTY, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        self.assertEqual([], self.event_log(MarketEvent.OrderFailure))

    async def test_order_placed_but_answered_503_is_kept_and_filled_once(self):
        """Extended places the order, then answers 503 (a degraded gateway): the outcome is unknown, not a refusal,
        so the order stays tracked, is found by its external id (or named by the stream) with its exchange id, and
        its fill is counted once; no failure event. A cancel that is done but answered 500 ends CANCELLED too."""
        self.emu.faults.http(status=503, path_prefix="/api/v1/user/order", after_processing=True)
        price = self.best(is_ask=False) + Decimal("0.1")
        oid = self.limit(True, QTY, price)
        await self.wait_ledger_status(oid, "NEW")
        await wait_until(lambda: (self.connector.in_flight_orders.get(oid) is not None
                                  and self.connector.in_flight_orders[oid].exchange_order_id), message="exchange id")
        self.assertEqual(0, self.emu.faults.pending_http)
        self.assertEqual([], self.event_log(MarketEvent.OrderFailure))
        self.mm_trade("SELL", QTY, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        resting, _ = await self.resting_buy()
        self.emu.faults.http(status=500, path_prefix="/api/v1/user/order", after_processing=True)
        self.connector.cancel(PAIR, resting)
        await wait_until(lambda: self.event_log(MarketEvent.OrderCancelled), message="cancelled")
        self.assertEqual("CANCELLED", self.ledger_order(resting)["status"])
        await self.wait_in_sync()
        self.assertEqual([], self.event_log(MarketEvent.OrderFailure))

    async def test_order_post_lost_before_reaching_the_exchange_fails_within_seconds(self):
        """The order POST never reaches the exchange (the connection fails first): the order stays tracked while
        its fate is unknown, is looked up by its external id a few times within seconds (not only at the 2-minute
        polls), and then fails with a failure event; the emulator never saw it."""
        real_call = RESTConnection.call

        async def fail_before_sending(connection, request, *args, **kwargs):
            if request.method.name == "POST" and str(request.url).endswith("/user/order"):
                raise ConnectionResetError("connection reset before the request was sent")
            return await real_call(connection, request, *args, **kwargs)

        since = time.monotonic()
        with mock.patch.object(RESTConnection, "call", fail_before_sending):
            oid = self.limit(True, QTY, self.best(is_ask=False))
            await wait_until(lambda: oid in self.connector.in_flight_orders, message="tracked")
        await wait_until(lambda: self.event_log(MarketEvent.OrderFailure), timeout=10, message="failure event")
        self.assertEqual(oid, self.event_log(MarketEvent.OrderFailure)[0].order_id)
        self.assertIsNone(self.ledger_order(oid))
        self.assertNotIn(oid, self.connector.in_flight_orders)
        self.assertLessEqual(self.emu.request_count(since, "/user/orders"), 12)
        await self.wait_in_sync()

    async def test_reconciliation_survives_5xx_and_delays(self):
        """The account socket drops in the middle of a fill and the reconciliation's first REST requests get 503,
        500 and a delay: the fills are still recovered (once each) without a request storm."""
        oid, price = await self.resting_buy()
        since = time.monotonic()
        self.emu.faults.drop_websockets("account", after_messages=1)
        self.mm_trade("SELL", PART, price)
        self.mm_trade("SELL", REST, price)
        self.emu.faults.http(status=503, count=2, path_prefix="/api/v1/user")
        self.emu.faults.http(status=500, count=1, path_prefix="/api/v1/user")
        self.emu.faults.http(status=None, delay=0.5, count=2, path_prefix="/api/v1/user")
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), timeout=15, message="completed")
        await self.wait_in_sync(timeout=15)
        self.assert_rest_budget(since, budget=40)

    async def test_partial_fill_recovered_when_the_trades_request_fails_during_reconciliation(self):
        """The socket drops during a partial fill and the reconciliation's trades request gets a 503: the order is
        still open (no FILLED status to trigger a later look-up), yet the partial fill is recovered within seconds,
        not at the next long status poll."""
        oid, price = await self.resting_buy()
        since = time.monotonic()
        self.emu.faults.http(status=503, count=1, path_prefix="/api/v1/user/trades")
        self.emu.faults.drop_websockets("account", after_messages=1)
        self.mm_trade("SELL", PART, price)
        await wait_until(lambda: self.connector.in_flight_orders[oid].executed_amount_base == PART, timeout=10,
                         message="partial fill recovered")
        await self.wait_in_sync()
        self.assertEqual(0, self.emu.faults.pending_http)
        self.assert_rest_budget(since)


class RestTradesWithoutExternalIdTests(FaultTestCase):
    """REST trades without ``externalOrderId``, as the API doc's field table has them (stream only): fills read over
    REST are matched to their order by its exchange id."""

    emulator_kwargs = {"rest_trades_external_order_id": False}

    def keep_the_account_stream_down(self) -> asyncio.Event:
        """Closes every account socket right after its snapshots until the returned event is set: no TRADE or
        ORDER update reaches the connector on the stream."""
        stop, seen = asyncio.Event(), set()

        def close_new_sockets():
            for connection in self.emu.hub.matching("account"):
                if id(connection) not in seen:  # its snapshots are already queued: close it right after them
                    seen.add(id(connection))
                    connection.queue.put_nowait(None)

        async def keep_closing():
            while not stop.is_set():
                await asyncio.sleep(0.01)
                close_new_sockets()
        close_new_sockets()  # the open socket now: nothing queued after this reaches the connector
        task = asyncio.ensure_future(keep_closing())
        self.addAsyncCleanup(asyncio.wait_for, task, 5)
        self.addCleanup(stop.set)
        return stop

    async def test_fill_of_an_order_whose_creation_answer_was_lost_is_recovered_over_rest(self):
        """A market order is placed, its answer lost, and it fills while the account stream is away: the look-up by
        external id finds it FILLED, and its fill, read over REST, is counted once (not "completed with 0 filled")."""
        real_call = RESTConnection.call
        lost = []

        async def lose_the_order_answer(connection, request, *args, **kwargs):
            response = await real_call(connection, request, *args, **kwargs)
            if request.method.name == "POST" and str(request.url).endswith("/user/order") and not lost:
                lost.append(request.url)
                raise ConnectionResetError("connection reset after the request was sent")
            return response

        stream_down = self.keep_the_account_stream_down()
        with mock.patch.object(RESTConnection, "call", lose_the_order_answer):
            oid = self.market(True, QTY)
            await self.wait_ledger_status(oid, "FILLED")
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), timeout=15, message="completed")
        stream_down.set()
        self.assertEqual([QTY], [event.amount for event in self.fills() if event.order_id == oid])
        self.assertEqual([], self.event_log(MarketEvent.OrderFailure))
        await self.wait_in_sync()

    async def test_cancel_of_an_order_filled_while_the_stream_was_away_completes_it(self):
        """An order fills while the account stream is away; the strategy cancels it again and again: each cancel is
        answered "not found", the order is looked up, found FILLED, and completes with its fill (never FAILED)."""
        oid, price = await self.resting_buy()
        stream_down = self.keep_the_account_stream_down()
        self.mm_trade("SELL", QTY, price)
        await self.wait_ledger_status(oid, "FILLED")
        for _ in range(4):  # faster than the stream comes back; Hummingbot fails an order after 3 "not found"
            self.connector.cancel(PAIR, oid)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), timeout=15, message="completed")
        stream_down.set()
        self.assertEqual([QTY], [event.amount for event in self.fills() if event.order_id == oid])
        self.assertEqual([], self.event_log(MarketEvent.OrderFailure))
        await self.wait_in_sync()


class RestartFaultTests(FaultTestCase):

    async def test_emulator_restart_mid_trading(self):
        """The emulator restarts (state kept, every socket closed) with an order resting and a position open: the
        connector reconnects every stream, a fill after the restart is counted once, the book and account equal
        the emulator's."""
        opened = self.market(True, QTY)
        await self.wait_ledger_status(opened, "FILLED")
        oid, price = await self.resting_buy()
        sockets = len(self.emu.hub.connections)
        since = time.monotonic()
        await self.emu.restart()
        await wait_until(lambda: len(self.emu.hub.connections) == sockets, message="sockets back")
        self.mm_trade("SELL", QTY, price)
        self.emu.step_market()
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        await self.wait_book_equals_emulator()
        self.assertEqual(Decimal("0.02"), self.connector_position())
        self.assertLessEqual(self.client.ws_connects_since(since), 2 * sockets)
        self.assert_rest_budget(since)

    async def test_emulator_restarts_right_after_fills(self):
        """Fills happen and the emulator restarts before their messages are written out: the fills are recovered
        from REST after the reconnection, each once."""
        oid, price = await self.resting_buy()
        since = time.monotonic()
        self.mm_trade("SELL", PART, price)
        self.mm_trade("SELL", REST, price)
        await self.emu.restart()
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        self.assertEqual(2, len(self.fills()))
        self.assert_rest_budget(since)

    async def test_emulator_down_for_two_seconds_no_hot_loop(self):
        """The emulator is down for 2 s (connections refused) while an order rests, and the periodic status poll
        comes due meanwhile: reconnection attempts back off (bounded count), the failing poll is retried after a
        growing pause rather than every 0.5 s (at most 2 polls, 8 requests, instead of 16+), and after the
        emulator comes back a fill is counted once and everything equals the ledger."""
        oid, price = await self.resting_buy()
        host, port = self.emu.host, self.emu.port
        await self.emu.stop()
        down_since = time.monotonic()
        self.connector._poll_notifier.set()  # the periodic status poll comes due during the outage
        await asyncio.sleep(2.0)  # the outage itself: what is measured is what the connector sends meanwhile
        attempts = self.client.ws_connects_since(down_since)
        rest_while_down = self.client.rest_since(down_since)
        await self.emu.start(host=host, port=port)
        self.assertLessEqual(attempts, 6 * 10, f"{attempts} reconnection attempts in 2 s")
        self.assertLessEqual(rest_while_down, 8, f"{rest_while_down} REST requests during a 2 s outage")
        since = time.monotonic()
        await wait_until(lambda: len(self.emu.hub.connections) >= 6, message="sockets back")
        self.mm_trade("SELL", QTY, price)
        await wait_until(lambda: self.event_log(MarketEvent.BuyOrderCompleted), message="completed")
        await self.wait_in_sync()
        await self.wait_book_equals_emulator()
        self.assert_rest_budget(since)
