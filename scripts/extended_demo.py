"""A Hummingbot V2 script that walks one perpetual through a full trading life on Extended.

It is what the README's main command runs against the local emulator, but it is an ordinary V2 script: copy it
into a Hummingbot ``scripts/`` folder before starting Hummingbot, then ``create --v2-config extended_demo`` and
``start --v2 conf_extended_demo_1.yml`` run it anywhere (mind the order size on a real account).

Steps, one per tick once the previous one has settled:
 1. a LIMIT buy below the book and a LIMIT_MAKER (post-only) sell above it, both resting;
 2. a MARKET buy that opens a long position;
 3. a LIMIT buy at the best ask that fills at once (a taker limit fill), adding to the position;
 4. waits for a funding payment while the position is held;
 5. cancels the resting orders and closes the position with a reduce-only MARKET sell;
 6. done: ``finished`` turns True.
"""
import logging
import os
from decimal import Decimal
from typing import Dict, List, Optional, Set

from pydantic import Field

from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.core.data_type.common import MarketDict, OrderType, PositionAction, TradeType
from hummingbot.core.event.events import (
    FundingPaymentCompletedEvent,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderFilledEvent,
)
from hummingbot.strategy.strategy_v2_base import StrategyV2Base, StrategyV2ConfigBase


class ExtendedDemoConfig(StrategyV2ConfigBase):
    script_file_name: str = os.path.basename(__file__)
    connector_name: str = Field(default="extended_perpetual")
    trading_pair: str = Field(default="BTC-USD")
    order_amount: Decimal = Field(default=Decimal("0.01"))
    resting_distance: Decimal = Field(default=Decimal("0.02"), description="resting orders' distance from the book")
    funding_wait_seconds: float = Field(default=25.0, description="how long to hold the position for a funding payment")

    def update_markets(self, markets: MarketDict) -> MarketDict:
        return markets.add_or_update(self.connector_name, self.trading_pair)


class ExtendedDemo(StrategyV2Base):
    """Walks the steps listed in the module docstring; records what happened for the closing summary."""

    @classmethod
    def logger(cls) -> logging.Logger:
        return logging.getLogger(__name__)

    def __init__(self, connectors: Dict[str, ConnectorBase], config: ExtendedDemoConfig):
        super().__init__(connectors, config)
        self.config = config
        self.step = 1
        self.finished = False
        self.resting_order_ids: List[str] = []
        self.pending_order_ids: Set[str] = set()
        self.fills: List[OrderFilledEvent] = []
        self.funding_payments: List[FundingPaymentCompletedEvent] = []
        self.failures: List[MarketOrderFailureEvent] = []
        self.final_status: Dict[str, str] = {}  # order id -> FILLED / CANCELLED / REJECTED, from the events
        self.order_kinds: Dict[str, str] = {}  # order id -> what the strategy asked for, e.g. "MARKET buy"
        self.peak_position = Decimal(0)
        self._funding_wait_started: Optional[float] = None

    @property
    def connector(self) -> ConnectorBase:
        return self.connectors[self.config.connector_name]

    def on_tick(self):
        if self.finished or self.pending_order_ids:
            return
        handler = {1: self._place_resting_orders, 2: self._open_with_market_buy, 3: self._add_with_taker_limit,
                   4: self._wait_for_funding, 5: self._close_everything, 6: self._finish}.get(self.step)
        if handler is not None:
            handler()

    def _place_resting_orders(self):
        pair, amount = self.config.trading_pair, self.config.order_amount
        book = self.connector.get_order_book(pair)
        bid, ask = Decimal(str(book.get_price(False))), Decimal(str(book.get_price(True)))
        distance = self.config.resting_distance
        buy_id = self.buy(self.config.connector_name, pair, amount, OrderType.LIMIT, bid * (1 - distance))
        sell_id = self.sell(self.config.connector_name, pair, amount, OrderType.LIMIT_MAKER, ask * (1 + distance))
        self.resting_order_ids = [buy_id, sell_id]
        self.order_kinds.update({buy_id: "LIMIT buy (resting)", sell_id: "LIMIT_MAKER sell (resting)"})
        self.logger().info(f"step 1: resting LIMIT buy {buy_id} and LIMIT_MAKER sell {sell_id}")
        self.step = 2

    def _open_with_market_buy(self):
        if not all(self._is_open(order_id) for order_id in self.resting_order_ids):
            return
        order_id = self.buy(self.config.connector_name, self.config.trading_pair, self.config.order_amount,
                            OrderType.MARKET)
        self.pending_order_ids.add(order_id)
        self.order_kinds[order_id] = "MARKET buy (opens)"
        self.logger().info(f"step 2: MARKET buy {order_id}")
        self.step = 3

    def _add_with_taker_limit(self):
        ask = Decimal(str(self.connector.get_order_book(self.config.trading_pair).get_price(True)))
        order_id = self.buy(self.config.connector_name, self.config.trading_pair, self.config.order_amount,
                            OrderType.LIMIT, ask)
        self.pending_order_ids.add(order_id)
        self.order_kinds[order_id] = "LIMIT buy (crosses)"
        self.logger().info(f"step 3: LIMIT buy {order_id} at the best ask {ask}")
        self.step = 4

    def _wait_for_funding(self):
        if self._funding_wait_started is None:
            self._funding_wait_started = self.current_timestamp
            self.logger().info("step 4: holding the position until a funding payment arrives")
        self.peak_position = max(self.peak_position, abs(self._position_amount()))
        waited = self.current_timestamp - self._funding_wait_started
        if self.funding_payments or waited >= self.config.funding_wait_seconds:
            self.step = 5

    def _close_everything(self):
        for order_id in self.resting_order_ids:
            if self._is_open(order_id):
                self.cancel(self.config.connector_name, self.config.trading_pair, order_id)
        position = self._position_amount()
        if position != 0:
            place = self.sell if position > 0 else self.buy
            order_id = place(self.config.connector_name, self.config.trading_pair, abs(position), OrderType.MARKET,
                             position_action=PositionAction.CLOSE)
            self.pending_order_ids.add(order_id)
            self.order_kinds[order_id] = "MARKET sell (reduce-only close)"
            self.logger().info(f"step 5: reduce-only MARKET close {order_id} of {abs(position)}")
        self.step = 6

    def _finish(self):
        if any(self._is_open(order_id) for order_id in self.resting_order_ids):
            return
        self.finished = True
        self.logger().info("step 6: done")

    def _is_open(self, order_id: str) -> bool:
        order = self.connector.in_flight_orders.get(order_id)
        return order is not None and order.is_open and order.exchange_order_id is not None

    def _position_amount(self) -> Decimal:
        positions = self.connector.account_positions.values()
        return sum((p.amount for p in positions if p.trading_pair == self.config.trading_pair), Decimal(0))

    # ---- events ----
    def did_fill_order(self, event: OrderFilledEvent):
        self.fills.append(event)
        order = self.connector.in_flight_orders.get(event.order_id)
        if order is None or order.is_done:
            self.pending_order_ids.discard(event.order_id)

    def did_complete_buy_order(self, event):
        self._settle(event.order_id, "FILLED")

    def did_complete_sell_order(self, event):
        self._settle(event.order_id, "FILLED")

    def did_fail_order(self, event: MarketOrderFailureEvent):
        self.failures.append(event)
        self._settle(event.order_id, "REJECTED")
        self.logger().warning(f"order {event.order_id} failed")

    def did_cancel_order(self, event: OrderCancelledEvent):
        self._settle(event.order_id, "CANCELLED")

    def _settle(self, order_id: str, status: str):
        self.final_status[order_id] = status
        self.pending_order_ids.discard(order_id)

    def did_complete_funding_payment(self, event: FundingPaymentCompletedEvent):
        self.funding_payments.append(event)

    def format_status(self) -> str:
        side_counts = {t: sum(1 for f in self.fills if f.trade_type == t) for t in (TradeType.BUY, TradeType.SELL)}
        return (f"step {self.step}; fills: {side_counts[TradeType.BUY]} buys, {side_counts[TradeType.SELL]} sells; "
                f"funding payments: {len(self.funding_payments)}")
