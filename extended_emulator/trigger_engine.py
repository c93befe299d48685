"""Conditional orders and TP/SL legs waiting for their trigger price (mixin of Exchange).

Watched orders are kept per market. After every price event (mark, index, a matched order) a check
is scheduled; it fires, in acceptance order:
  * an UNTRIGGERED CONDITIONAL order whose trigger is reached: TRIGGERED, then matched as a limit
    order (executionPriceType LIMIT) or an IOC at its price (MARKET);
  * an UNTRIGGERED TPSL order when one of its legs is reached: it takes the leg's price (and, for
    POSITION, the position's size) and is matched as a reduce-only order;
  * a leg attached to an entry order once that order has fills: a new reduce-only TPSL order
    (external id ``<parent>-TP`` / ``<parent>-SL``) for the filled size, capped at the position.
The first leg to fire spends both legs of its order.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Dict, Optional

from .orders import Order
from .triggers import TAKE_PROFIT, TpSlLeg, leg_direction, opposite, reached, reference_price

if TYPE_CHECKING:
    from .exchange import Exchange

ZERO = Decimal(0)


class TriggerEngine:
    watched: Dict[str, Dict[int, Order]]

    def watch(self: "Exchange", order: Order) -> None:
        self.watched.setdefault(order.market, {})[order.id] = order

    def request_trigger_check(self: "Exchange", market: str) -> None:
        if not self.watched.get(market) or market in self.trigger_checks_pending:
            return
        self.trigger_checks_pending.add(market)
        self.schedule(lambda: self.run_trigger_check(market))

    def run_trigger_check(self: "Exchange", market: str) -> None:
        self.trigger_checks_pending.discard(market)
        watched = self.watched.get(market, {})
        for order in sorted(watched.values(), key=lambda o: o.sequence):
            if order.id in watched and not self._still_waiting(order):
                watched.pop(order.id, None)

    def _still_waiting(self: "Exchange", order: Order) -> bool:
        """Fires the order or one of its legs if due; False once nothing of it can trigger any more."""
        if order.status == "UNTRIGGERED":
            fired = self._fire_tpsl_order(order) if order.order_type == "TPSL" else self._fire_conditional(order)
            return not fired or order.legs_pending
        if not order.legs_pending:
            return False
        if self.clock.now_ms() >= order.expire_time or (order.filled_qty == 0 and not order.is_open):
            order.legs_pending = False  # expired, or ended without a fill: nothing to protect
            return False
        if order.filled_qty == 0:
            return True  # armed by the entry order's first fill
        return not self._fire_attached_leg(order)

    def _fire_conditional(self: "Exchange", order: Order) -> bool:
        trigger = order.trigger
        price = reference_price(self.markets[order.market], trigger.trigger_price_type)
        if not reached(trigger.direction, price, trigger.trigger_price):
            return False
        self._release(order)
        return True

    def _due_leg(self: "Exchange", order: Order, closing_side: str) -> Optional[TpSlLeg]:
        market = self.markets[order.market]
        for leg in order.legs:
            price = reference_price(market, leg.trigger_price_type)
            if reached(leg_direction(leg.kind, closing_side), price, leg.trigger_price):
                return leg
        return None

    def _fire_tpsl_order(self: "Exchange", order: Order) -> bool:
        leg = self._due_leg(order, order.side)
        if leg is None:
            return False
        order.legs_pending = False
        if order.tp_sl_type == "POSITION":
            order.qty = self._reducible_qty(order)
        order.price, order.execution_type = leg.price, leg.price_type
        if order.qty <= 0:
            self._finish(order, "REJECTED", "REDUCE_ONLY_FAILED")  # no position left to close
            return True
        self._release(order)
        return True

    def _release(self: "Exchange", order: Order) -> None:
        """UNTRIGGERED -> TRIGGERED (reported) -> NEW, then matched like a fresh order."""
        order.status, order.updated_time = "TRIGGERED", self.clock.now_ms()
        self.emit_order(order)
        order.status = "NEW"
        self.process_order(order, None)

    def _fire_attached_leg(self: "Exchange", parent: Order) -> bool:
        closing_side = opposite(parent.side)
        leg = self._due_leg(parent, closing_side)
        if leg is None:
            return False
        parent.legs_pending = False
        position = self.accounts[parent.account_id].positions.get(parent.market)
        held = abs(position.size) if position is not None and position.long == parent.is_buy else ZERO
        qty = min(held, parent.filled_qty if parent.tp_sl_type == "ORDER" else held)
        if qty > 0:
            self.process_order(self._leg_order(parent, leg, closing_side, qty), None)
        return True

    def _leg_order(self: "Exchange", parent: Order, leg: TpSlLeg, side: str, qty: Decimal) -> Order:
        now = self.clock.now_ms()
        suffix = "TP" if leg.kind == TAKE_PROFIT else "SL"
        order = Order(
            id=self.next_id("order"), external_id=f"{parent.external_id}-{suffix}", account_id=parent.account_id,
            market=parent.market, order_type="TPSL", side=side, qty=qty, price=leg.price, time_in_force="GTT",
            expire_time=parent.expire_time, fee_rate=parent.fee_rate, reduce_only=True, post_only=False,
            self_trade_protection=parent.self_trade_protection, created_time=now, updated_time=now,
            sequence=self.next_id("sequence"), execution_type=leg.price_type, parent_id=parent.id)
        self.accounts[parent.account_id].orders[order.id] = order
        return order
