"""Recovery after an interruption: reconciliation retries, funding read on reconnection, status-poll back-off.

(The same behaviours are exercised end to end against the emulator in ``test/integration/test_fault_suite.py``.)
"""
import asyncio
from decimal import Decimal
from unittest.mock import AsyncMock, patch

from aioresponses import aioresponses
from bidict import bidict

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_derivative as derivative_module,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
    ExtendedPerpetualDerivative,
)
from hummingbot.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from hummingbot.core.data_type.common import OrderType, PositionAction, TradeType
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from test.hummingbot.connector.derivative.extended_perpetual.test_extended_perpetual_derivative import (
    API_KEY,
    ORDER_TS_MS,
    STARK_PRIVATE_KEY,
    STARK_PUBLIC_KEY,
    VAULT_ID,
    error,
    load_market,
    market_item,
    ok,
    regex,
)
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

PAIR = "BTC-USD"


class ReconciliationRecoveryTests(IsolatedAsyncioWrapperTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[PAIR])
        self.exchange._set_trading_pair_symbol_map(bidict({PAIR: PAIR}))
        self.exchange._set_current_timestamp(1640780000)
        load_market(self.exchange, market_item())
        self.fills = EventLogger()
        self.exchange.add_listener(MarketEvent.OrderFilled, self.fills)
        self.exchange.start_tracking_order(order_id="HBOT-B1", exchange_order_id="1001", trading_pair=PAIR,
                                           trade_type=TradeType.BUY, price=Decimal("10000"), amount=Decimal("1"),
                                           order_type=OrderType.LIMIT, position_action=PositionAction.OPEN)

    def mock_account(self, mock_api: aioresponses):
        order = {"id": 1001, "accountId": 1, "externalId": "HBOT-B1", "market": PAIR, "type": "LIMIT", "side": "BUY",
                 "status": "PARTIALLY_FILLED", "price": "10000", "qty": "1", "filledQty": "0.4",
                 "createdTime": ORDER_TS_MS, "updatedTime": ORDER_TS_MS + 1}
        trade = {"id": 77, "accountId": 1, "market": PAIR, "orderId": 1001, "externalOrderId": "HBOT-B1",
                 "side": "BUY", "price": "10000", "qty": "0.4", "fee": "1", "tradeType": "TRADE",
                 "createdTime": ORDER_TS_MS, "isTaker": False}
        balance = {"collateralName": "USD", "balance": "1000", "equity": "1000", "availableForTrade": "900"}
        trades_url = regex(web_utils.private_rest_url(CONSTANTS.TRADES_PATH_URL))
        mock_api.get(trades_url, status=503, body=error(503, "unavailable"))
        mock_api.get(trades_url, body=ok([trade]), repeat=True)
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.OPEN_ORDERS_PATH_URL), r"(\?|$)"), body=ok([order]),
                     repeat=True)
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.POSITIONS_PATH_URL)), body=ok([]), repeat=True)
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.BALANCE_PATH_URL)), body=ok(balance), repeat=True)

    @aioresponses()
    async def test_trades_that_could_not_be_read_are_retried_after_a_pause(self, mock_api):
        self.mock_account(mock_api)
        with patch.object(derivative_module, "RECONCILE_RETRY_DELAYS", (0.0,)):
            self.exchange._process_reconcile_message(messages.parse_stream_message(
                messages.reconcile_message("test")))
            await asyncio.wait_for(self.exchange._reconcile_task, timeout=5)
        self.assertEqual(["77"], [fill.exchange_trade_id for fill in self.fills.event_log])
        self.assertEqual(Decimal("0.4"), self.exchange.in_flight_orders["HBOT-B1"].executed_amount_base)

    @aioresponses()
    async def test_a_reconnection_supersedes_a_running_reconciliation_and_schedules_a_funding_read(self, mock_api):
        self.mock_account(mock_api)
        marker = messages.parse_stream_message(messages.reconcile_message("test"))
        with patch.object(derivative_module, "RECONCILE_RETRY_DELAYS", (10.0,)):
            self.exchange._process_reconcile_message(marker)
            first = self.exchange._reconcile_task
            await asyncio.sleep(0.05)  # the first attempt fails on the trades and pauses 10 s
            self.exchange._process_reconcile_message(marker)
            await asyncio.wait_for(self.exchange._reconcile_task, timeout=5)
            await asyncio.sleep(0)
        self.assertTrue(first.cancelled())
        self.assertEqual(["77"], [fill.exchange_trade_id for fill in self.fills.event_log])
        self.assertEqual(self.exchange.current_timestamp + derivative_module.FUNDING_PAYMENT_POLL_DELAY,
                         self.exchange._funding_poll_due)


class StatusPollBackOffTests(IsolatedAsyncioWrapperTestCase):

    async def test_failed_polls_wait_a_doubling_pause_and_a_success_resets_it(self):
        exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[PAIR])
        exchange._sleep = AsyncMock()
        failing = AsyncMock(side_effect=IOError("unreachable"))
        with patch.object(PerpetualDerivativePyBase, "_status_polling_loop_fetch_updates", failing):
            for _ in range(7):
                with self.assertRaises(IOError):
                    await exchange._status_polling_loop_fetch_updates()
        self.assertEqual([1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0], [c.args[0] for c in exchange._sleep.await_args_list])
        with patch.object(PerpetualDerivativePyBase, "_status_polling_loop_fetch_updates", AsyncMock()):
            await exchange._status_polling_loop_fetch_updates()
        self.assertEqual(0, exchange._status_poll_failures)

    async def test_failed_trading_rules_refreshes_wait_a_doubling_pause(self):
        exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[PAIR])
        outcomes = [IOError("unreachable")] * 3 + [None, IOError("unreachable"), asyncio.CancelledError()]
        exchange._update_trading_rules = AsyncMock(side_effect=outcomes)
        exchange._sleep = AsyncMock()
        with self.assertRaises(asyncio.CancelledError):
            await exchange._trading_rules_polling_loop()
        self.assertEqual([1.0, 2.0, 4.0, exchange.TRADING_RULES_INTERVAL, 1.0],
                         [c.args[0] for c in exchange._sleep.await_args_list])


class StopNetworkTests(IsolatedAsyncioWrapperTestCase):

    async def test_stop_network_stops_the_funding_payment_loop_and_the_reconciliation(self):
        exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[PAIR])
        never = asyncio.get_running_loop().create_future
        exchange._funding_fee_polling_task = asyncio.ensure_future(never())
        exchange._reconcile_task = asyncio.ensure_future(never())
        funding, reconcile = exchange._funding_fee_polling_task, exchange._reconcile_task
        await exchange.stop_network()
        await asyncio.sleep(0)
        self.assertTrue(funding.cancelled())
        self.assertTrue(reconcile.cancelled())
        self.assertIsNone(exchange._funding_fee_polling_task)


class UnansweredOrderTests(IsolatedAsyncioWrapperTestCase):

    @aioresponses()
    async def test_an_order_post_without_answer_is_looked_up_then_failed_when_never_found(self, mock_api):
        await self._assert_looked_up_then_failed(mock_api, ConnectionResetError("reset"))

    @aioresponses()
    async def test_a_5xx_on_an_order_post_the_exchange_accepted_keeps_the_order(self, mock_api):
        # a proxy's 502 or the server's 503 may come after the order was accepted: it is not a refusal
        exchange = self._exchange()
        failures = self._track(exchange)
        path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id="HBOT-B9")
        accepted = {"id": 1791389621914243072, "accountId": 3017, "externalId": "HBOT-B9", "market": PAIR,
                    "type": "LIMIT", "side": "BUY", "status": "NEW", "price": "10000", "averagePrice": "0",
                    "qty": "1", "filledQty": "0", "payedFee": "0", "reduceOnly": False, "postOnly": False,
                    "createdTime": 1715885888571, "updatedTime": 1715885888571, "expireTime": 1716885888571}
        mock_api.get(regex(web_utils.private_rest_url(path)), body=ok([accepted]), repeat=True)
        with patch.object(derivative_module, "UNANSWERED_ORDER_LOOKUP_DELAYS", (0.0, 0.0, 0.0, 0.0)):
            exchange._on_order_failure("HBOT-B9", PAIR, Decimal("1"), TradeType.BUY, OrderType.LIMIT,
                                       Decimal("10000"), messages.ExtendedAPIError(503, 503, "unavailable"))
            order = exchange.in_flight_orders["HBOT-B9"]
            for _ in range(50):
                if order.exchange_order_id is not None:
                    break
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        self.assertEqual([], failures.event_log)
        self.assertEqual("1791389621914243072", order.exchange_order_id)
        self.assertTrue(order.is_open)

    @aioresponses()
    async def test_look_ups_failing_with_5xx_do_not_fail_the_order(self, mock_api):
        """Extended degraded: every look-up answers 503. That says nothing of the order, which may be live: it stays
        tracked (no failure event, no "not found" count) for the status polling to ask again."""
        exchange = self._exchange()
        failures = self._track(exchange)
        path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id="HBOT-B9")
        look_ups = regex(web_utils.private_rest_url(path))
        mock_api.get(look_ups, status=503, body=error(503, "unavailable"), repeat=True)
        with patch.object(derivative_module, "UNANSWERED_ORDER_LOOKUP_DELAYS", (0.0, 0.0, 0.0, 0.0)):
            exchange._on_order_failure("HBOT-B9", PAIR, Decimal("1"), TradeType.BUY, OrderType.LIMIT,
                                       Decimal("10000"), asyncio.TimeoutError())
            for _ in range(50):
                if sum(len(calls) for key, calls in mock_api.requests.items() if look_ups.match(str(key[1]))) >= 4:
                    break
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        self.assertEqual([], failures.event_log)
        self.assertIn("HBOT-B9", exchange.in_flight_orders)
        self.assertNotIn("HBOT-B9", exchange._order_tracker._order_not_found_records)

    @aioresponses()
    async def test_an_unreadable_answer_to_the_order_post_is_looked_up_not_failed(self, mock_api):
        """A 200 whose body is not Extended's envelope (truncated, a proxy's page) is no refusal: the order may exist.
        Found by its external id, it stays open."""
        exchange = self._exchange()
        failures = self._track(exchange)
        path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id="HBOT-B9")
        mock_api.get(regex(web_utils.private_rest_url(path)), body=ok([self.accepted_order()]), repeat=True)
        unreadable = messages.MalformedMessageError("order answer is not the documented envelope")
        with patch.object(derivative_module, "UNANSWERED_ORDER_LOOKUP_DELAYS", (0.0, 0.0, 0.0, 0.0)):
            exchange._on_order_failure("HBOT-B9", PAIR, Decimal("1"), TradeType.BUY, OrderType.LIMIT,
                                       Decimal("10000"), unreadable)
            order = exchange.in_flight_orders["HBOT-B9"]
            for _ in range(50):
                if order.exchange_order_id is not None:
                    break
                await asyncio.sleep(0.01)
        self.assertEqual([], failures.event_log)
        self.assertEqual("1791389621914243072", order.exchange_order_id)

    @staticmethod
    def accepted_order():
        return {"id": 1791389621914243072, "accountId": 3017, "externalId": "HBOT-B9", "market": PAIR,
                "type": "LIMIT", "side": "BUY", "status": "NEW", "price": "10000", "averagePrice": "0",
                "qty": "1", "filledQty": "0", "payedFee": "0", "reduceOnly": False, "postOnly": False,
                "createdTime": 1715885888571, "updatedTime": 1715885888571, "expireTime": 1716885888571}

    async def test_a_documented_refusal_on_the_order_post_fails_at_once_without_look_up(self):
        exchange = self._exchange()
        failures = self._track(exchange)
        exchange._on_order_failure("HBOT-B9", PAIR, Decimal("1"), TradeType.BUY, OrderType.LIMIT,
                                   Decimal("10000"), messages.ExtendedAPIError(400, 1140, "cost exceeds balance"))
        await asyncio.sleep(0.05)
        self.assertEqual(["HBOT-B9"], [event.order_id for event in failures.event_log])
        self.assertIn("1140", failures.event_log[0].error_message)
        self.assertNotIn("HBOT-B9", exchange.in_flight_orders)

    def _exchange(self) -> ExtendedPerpetualDerivative:
        exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[PAIR])
        exchange._set_trading_pair_symbol_map(bidict({PAIR: PAIR}))
        return exchange

    @staticmethod
    def _track(exchange: ExtendedPerpetualDerivative) -> EventLogger:
        failures = EventLogger()
        exchange.add_listener(MarketEvent.OrderFailure, failures)
        exchange.start_tracking_order(order_id="HBOT-B9", exchange_order_id=None, trading_pair=PAIR,
                                      trade_type=TradeType.BUY, price=Decimal("10000"), amount=Decimal("1"),
                                      order_type=OrderType.LIMIT, position_action=PositionAction.OPEN)
        return failures

    async def _assert_looked_up_then_failed(self, mock_api, post_error: Exception):
        exchange = self._exchange()
        failures = self._track(exchange)
        path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id="HBOT-B9")
        mock_api.get(regex(web_utils.private_rest_url(path)), status=404, body=error(404, "not found"), repeat=True)
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.ORDERS_HISTORY_PATH_URL)), body=ok([]), repeat=True)
        with patch.object(derivative_module, "UNANSWERED_ORDER_LOOKUP_DELAYS", (0.0, 0.0, 0.0, 0.0)):
            exchange._on_order_failure("HBOT-B9", PAIR, Decimal("1"), TradeType.BUY, OrderType.LIMIT,
                                       Decimal("10000"), post_error)
            self.assertEqual([], failures.event_log)
            for _ in range(50):
                if failures.event_log:
                    break
                await asyncio.sleep(0.01)
        self.assertEqual(["HBOT-B9"], [event.order_id for event in failures.event_log])
        self.assertNotIn("HBOT-B9", exchange.in_flight_orders)
