"""Order request parsing (frozen input) and the mutable exchange-side Order."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from . import errors
from .fields import Settlement, bad, boolean, decimal, enum, integer, parse_settlement, required
from .triggers import STOP_LOSS, TAKE_PROFIT, TPSL_TYPES, TpSlLeg, Trigger, parse_leg, parse_trigger

ORDER_TYPES = ("LIMIT", "MARKET", "CONDITIONAL", "TPSL")
SIDES = ("BUY", "SELL")
TIME_IN_FORCE = ("GTT", "IOC", "FOK")
STP_LEVELS = ("DISABLED", "ACCOUNT", "CLIENT")
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED", "UNTRIGGERED")
MAX_NONCE = 2 ** 31


@dataclass(frozen=True)
class OrderRequest:
    external_id: str
    market: str
    order_type: str
    side: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    expiry_epoch_millis: int
    fee: Decimal
    nonce: int
    settlement: Optional[Settlement]  # None only for TPSL orders (their legs carry the signatures)
    reduce_only: bool
    post_only: bool
    self_trade_protection: str
    cancel_id: Optional[str]
    trigger: Optional[Trigger] = None
    tp_sl_type: Optional[str] = None
    take_profit: Optional[TpSlLeg] = None
    stop_loss: Optional[TpSlLeg] = None

    @property
    def legs(self) -> tuple:
        return tuple(leg for leg in (self.take_profit, self.stop_loss) if leg is not None)


def parse_nonce(raw: Any) -> int:
    nonce = integer(raw, "nonce")
    if not 1 <= nonce <= MAX_NONCE:
        raise bad("Nonce must be >= 1 and <= 2^31", errors.INVALID_ORDER_PARAMETERS)
    return nonce


def _price(body: dict, order_type: str) -> Decimal:
    """Price is mandatory (1130) except on TPSL orders, where the doc calls it optional (0)."""
    if body.get("price") is None:
        if order_type == "TPSL":
            return Decimal(0)
        raise bad("Order price is missing", errors.MISSING_PRICE)
    return decimal(body, "price")


def _external_id(body: dict) -> str:
    external_id = required(body, "id")
    if not isinstance(external_id, str) or not external_id:
        raise bad("Field 'id' must be a non-empty string")
    return external_id


def parse_order_body(body: Any) -> OrderRequest:
    if not isinstance(body, dict):
        raise bad("Request body must be a JSON object")
    external_id = _external_id(body)
    order_type = enum(body, "type", ORDER_TYPES)
    return OrderRequest(
        external_id=external_id,
        market=str(required(body, "market")),
        order_type=order_type,
        side=enum(body, "side", SIDES),
        qty=decimal(body, "qty"),
        price=_price(body, order_type),
        time_in_force=enum(body, "timeInForce", TIME_IN_FORCE, "GTT"),
        expiry_epoch_millis=integer(required(body, "expiryEpochMillis"), "expiryEpochMillis"),
        fee=decimal(body, "fee"),
        nonce=parse_nonce(required(body, "nonce")),
        settlement=None if order_type == "TPSL" else parse_settlement(body.get("settlement")),
        reduce_only=boolean(body, "reduceOnly"),
        post_only=boolean(body, "postOnly"),
        self_trade_protection=enum(body, "selfTradeProtectionLevel", STP_LEVELS, "ACCOUNT"),
        cancel_id=None if body.get("cancelId") is None else str(body["cancelId"]),
        trigger=parse_trigger(body.get("trigger")),
        tp_sl_type=None if body.get("tpSlType") is None else enum(body, "tpSlType", TPSL_TYPES),
        take_profit=parse_leg(body, TAKE_PROFIT),
        stop_loss=parse_leg(body, STOP_LOSS),
    )


@dataclass
class Order:
    id: int
    external_id: str
    account_id: int
    market: str
    order_type: str
    side: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    expire_time: int
    fee_rate: Decimal
    reduce_only: bool
    post_only: bool
    self_trade_protection: str
    created_time: int
    updated_time: int
    status: str = "NEW"
    status_reason: Optional[str] = None
    filled_qty: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    payed_fee: Decimal = Decimal(0)
    sequence: int = 0
    execution_type: str = "LIMIT"  # how it trades once live: LIMIT may rest (GTT), MARKET never rests
    trigger: Optional[Trigger] = None
    tp_sl_type: Optional[str] = None
    take_profit: Optional[TpSlLeg] = None
    stop_loss: Optional[TpSlLeg] = None
    legs_pending: bool = False  # TP/SL legs not triggered yet
    parent_id: Optional[int] = None  # the order whose TP/SL leg created this one

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_buy(self) -> bool:
        return self.side == "BUY"

    @property
    def legs(self) -> tuple:
        return tuple(leg for leg in (self.take_profit, self.stop_loss) if leg is not None)

    @property
    def rests(self) -> bool:
        """Whether an unfilled remainder goes on the book (GTT limit-priced), else it is cancelled."""
        return self.time_in_force == "GTT" and self.execution_type == "LIMIT"

    def to_json(self, stream: bool = False) -> dict:
        data = {
            "id": self.id, "accountId": self.account_id, "externalId": self.external_id,
            "market": self.market, "type": self.order_type, "side": self.side, "status": self.status,
            "price": str(self.price), "qty": str(self.qty), "filledQty": str(self.filled_qty),
            "payedFee": str(self.payed_fee), "reduceOnly": self.reduce_only, "postOnly": self.post_only,
            "createdTime": self.created_time, "updatedTime": self.updated_time,
            "timeInForce": self.time_in_force, "expireTime": self.expire_time,
        }
        if self.filled_qty > 0:
            data["averagePrice"] = format((self.filled_value / self.filled_qty).normalize(), "f")
        if self.status_reason is not None:
            data["statusReason"] = self.status_reason
        self._trigger_parts(data, stream)
        return data

    def _trigger_parts(self, data: dict, stream: bool) -> None:
        if self.trigger is not None:
            data["trigger"] = self.trigger.to_json("direction" if stream else "triggerPriceDirection")
        if self.tp_sl_type is not None:
            data["tpSlType"] = self.tp_sl_type
        if self.take_profit is not None:
            data["takeProfit"] = self.take_profit.to_json()
        if self.stop_loss is not None:
            data["stopLoss"] = self.stop_loss.to_json()
