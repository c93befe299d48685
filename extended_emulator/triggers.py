"""Conditional triggers and TP/SL legs: request parts, wire shapes and the trigger arithmetic.

A ``trigger`` makes a CONDITIONAL order wait (UNTRIGGERED) until the chosen price (last trade,
mark or index) reaches ``triggerPrice`` in ``direction`` (UP: price >= trigger, DOWN: price <=
trigger). A TP/SL leg carries its own signed settlement; its direction follows from the side it
closes: a SELL leg (closing a long) takes profit going UP and stops loss going DOWN.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Optional

from .fields import Settlement, bad, decimal, enum, parse_settlement
from .markets import Market, TradingConfig

TRIGGER_PRICE_TYPES = ("LAST", "MARK", "INDEX")
DIRECTIONS = ("UP", "DOWN")
EXECUTION_PRICE_TYPES = ("LIMIT", "MARKET")
TPSL_TYPES = ("ORDER", "POSITION")
TAKE_PROFIT, STOP_LOSS = "TP", "SL"
LEG_FIELDS = {TAKE_PROFIT: "takeProfit", STOP_LOSS: "stopLoss"}
POSITION_TPSL_FACTOR = 50


@dataclass(frozen=True)
class Trigger:
    trigger_price: Decimal
    trigger_price_type: str
    direction: str
    execution_price_type: str

    def to_json(self, direction_key: str = "triggerPriceDirection") -> dict:
        """REST answers name the direction ``triggerPriceDirection``, the account stream ``direction``."""
        return {"triggerPrice": str(self.trigger_price), "triggerPriceType": self.trigger_price_type,
                direction_key: self.direction, "executionPriceType": self.execution_price_type}


@dataclass(frozen=True)
class TpSlLeg:
    kind: str  # TAKE_PROFIT or STOP_LOSS
    trigger_price: Decimal
    trigger_price_type: str
    price: Decimal
    price_type: str
    settlement: Settlement

    def to_json(self) -> dict:
        return {"triggerPrice": str(self.trigger_price), "triggerPriceType": self.trigger_price_type,
                "price": str(self.price), "priceType": self.price_type}


def _object(raw: Any, key: str) -> dict:
    if not isinstance(raw, dict):
        raise bad(f"Field '{key}' must be an object")
    return raw


def parse_trigger(raw: Any) -> Optional[Trigger]:
    if raw is None:
        return None
    body = dict(_object(raw, "trigger"))
    if body.get("direction") is None:  # the request example says direction, the table triggerPriceDirection
        body["direction"] = body.get("triggerPriceDirection")
    return Trigger(
        trigger_price=decimal(body, "triggerPrice"),
        trigger_price_type=enum(body, "triggerPriceType", TRIGGER_PRICE_TYPES),
        direction=enum(body, "direction", DIRECTIONS),
        execution_price_type=enum(body, "executionPriceType", EXECUTION_PRICE_TYPES),
    )


def parse_leg(body: dict, kind: str) -> Optional[TpSlLeg]:
    key = LEG_FIELDS[kind]
    if body.get(key) is None:
        return None
    raw = _object(body[key], key)
    return TpSlLeg(
        kind=kind,
        trigger_price=decimal(raw, "triggerPrice"),
        trigger_price_type=enum(raw, "triggerPriceType", TRIGGER_PRICE_TYPES),
        price=decimal(raw, "price"),
        price_type=enum(raw, "priceType", EXECUTION_PRICE_TYPES),
        settlement=parse_settlement(raw.get("settlement"), f"{key}.settlement"),
    )


def opposite(side: str) -> str:
    return "SELL" if side == "BUY" else "BUY"


def reference_price(market: Market, price_type: str) -> Optional[Decimal]:
    """The price a trigger watches; None for LAST before the market's first trade."""
    if price_type == "MARK":
        return market.mark_price
    if price_type == "INDEX":
        return market.index_price
    return market.last_price if market.last_price > 0 else None


def reached(direction: str, price: Optional[Decimal], trigger_price: Decimal) -> bool:
    if price is None:
        return False
    return price >= trigger_price if direction == "UP" else price <= trigger_price


def leg_direction(kind: str, closing_side: str) -> str:
    """SELL legs close longs: TP when the price rises to the trigger, SL when it falls to it."""
    rises = (kind == TAKE_PROFIT) == (closing_side == "SELL")
    return "UP" if rises else "DOWN"


def entire_position_qty(rules: TradingConfig, price: Decimal) -> Decimal:
    """The size a POSITION leg signs: maxPositionValue * 50 / leg price, floored to the size step's decimals."""
    step = rules.min_order_size_change.normalize()
    unit = Decimal(1).scaleb(min(0, step.as_tuple().exponent))
    return (rules.max_position_value * POSITION_TPSL_FACTOR / price).quantize(unit, rounding=ROUND_FLOOR)
