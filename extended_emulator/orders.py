"""Order request parsing (frozen input) and the mutable exchange-side Order."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from . import errors
from .errors import ApiError

ORDER_TYPES = ("LIMIT", "MARKET", "CONDITIONAL", "TPSL")
SUPPORTED_TYPES = ("LIMIT", "MARKET")
SIDES = ("BUY", "SELL")
TIME_IN_FORCE = ("GTT", "IOC", "FOK")
STP_LEVELS = ("DISABLED", "ACCOUNT", "CLIENT")
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED", "UNTRIGGERED")
MAX_NONCE = 2 ** 31


@dataclass(frozen=True)
class Settlement:
    r: int
    s: int
    stark_key: int
    collateral_position: int


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
    settlement: Settlement
    reduce_only: bool
    post_only: bool
    self_trade_protection: str
    cancel_id: Optional[str]
    has_conditional_parts: bool = False


CONDITIONAL_FIELDS = ("trigger", "tpSlType", "takeProfit", "stopLoss")


def _bad(message: str, code: int = errors.BAD_REQUEST) -> ApiError:
    return ApiError(code, message, 400)


def _required(body: dict, key: str) -> Any:
    value = body.get(key)
    if value is None:
        raise _bad(f"Missing required field '{key}'")
    return value


def _decimal(body: dict, key: str) -> Decimal:
    raw = _required(body, key)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise _bad(f"Field '{key}' is not a decimal number")
    if not value.is_finite():
        raise _bad(f"Field '{key}' is not a decimal number")
    return value


def _integer(raw: Any, key: str) -> int:
    if isinstance(raw, bool):
        raise _bad(f"Field '{key}' is not an integer")
    try:
        return int(raw, 0) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise _bad(f"Field '{key}' is not an integer")


def _enum(body: dict, key: str, allowed: tuple, default: Optional[str] = None) -> str:
    raw = body.get(key, default)
    if raw is None:
        raise _bad(f"Missing required field '{key}'")
    value = str(raw).upper()
    if value not in allowed:
        raise _bad(f"Invalid value for '{key}'", errors.INVALID_ORDER_PARAMETERS)
    return value


def _bool(body: dict, key: str) -> bool:
    raw = body.get(key, False)
    if not isinstance(raw, bool):
        raise _bad(f"Field '{key}' must be a boolean")
    return raw


def parse_settlement(raw: Any) -> Settlement:
    if not isinstance(raw, dict) or not isinstance(raw.get("signature"), dict):
        raise _bad("Missing required field 'settlement'")
    signature = raw["signature"]
    return Settlement(
        r=_integer(_hex_string(signature.get("r")), "settlement.signature.r"),
        s=_integer(_hex_string(signature.get("s")), "settlement.signature.s"),
        stark_key=_integer(_hex_string(raw.get("starkKey")), "settlement.starkKey"),
        collateral_position=_integer(raw.get("collateralPosition"), "settlement.collateralPosition"),
    )


def _hex_string(raw: Any) -> Any:
    if isinstance(raw, str) and not raw.lower().startswith("0x"):
        return "0x" + raw
    return raw


def parse_nonce(raw: Any) -> int:
    nonce = _integer(raw, "nonce")
    if not 1 <= nonce <= MAX_NONCE:
        raise _bad("Nonce must be >= 1 and <= 2^31", errors.INVALID_ORDER_PARAMETERS)
    return nonce


def parse_order_body(body: Any) -> OrderRequest:
    if not isinstance(body, dict):
        raise _bad("Request body must be a JSON object")
    external_id = _required(body, "id")
    if not isinstance(external_id, str) or not external_id:
        raise _bad("Field 'id' must be a non-empty string")
    if body.get("price") is None:
        raise _bad("Order price is missing", errors.MISSING_PRICE)
    return OrderRequest(
        external_id=external_id,
        market=str(_required(body, "market")),
        order_type=_enum(body, "type", ORDER_TYPES),
        side=_enum(body, "side", SIDES),
        qty=_decimal(body, "qty"),
        price=_decimal(body, "price"),
        time_in_force=_enum(body, "timeInForce", TIME_IN_FORCE, "GTT"),
        expiry_epoch_millis=_integer(_required(body, "expiryEpochMillis"), "expiryEpochMillis"),
        fee=_decimal(body, "fee"),
        nonce=parse_nonce(_required(body, "nonce")),
        settlement=parse_settlement(body.get("settlement")),
        reduce_only=_bool(body, "reduceOnly"),
        post_only=_bool(body, "postOnly"),
        self_trade_protection=_enum(body, "selfTradeProtectionLevel", STP_LEVELS, "ACCOUNT"),
        cancel_id=None if body.get("cancelId") is None else str(body["cancelId"]),
        has_conditional_parts=any(body.get(key) is not None for key in CONDITIONAL_FIELDS),
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

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_buy(self) -> bool:
        return self.side == "BUY"

    def to_json(self) -> dict:
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
        return data
