"""Parsing of Extended's private account data, shared by the account stream and the REST endpoints.

Each wire format is parsed here and only here: an order item (``/user/orders``, ``/user/orders/history``,
``/user/orders/external/{id}`` and stream ``ORDER``), a trade item (``/user/trades`` and stream ``TRADE``), the
balance (``/user/balance`` and stream ``BALANCE``), a position item (``/user/positions`` and stream ``POSITION``),
funding payments, leverage and fee items, and the REST envelope ``{"status", "data", "error"}``.

Parsers are plain functions returning frozen dataclasses; a malformed item raises ``MalformedMessageError``
(a ``ValueError``) naming the missing or bad field.
"""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS

ORDER = "ORDER"
TRADE = "TRADE"
BALANCE = "BALANCE"
POSITION = "POSITION"
# Listed among the account stream's types by the live probe, with no documented payload: taken as a signal that
# a funding payment was booked (the payment itself is read from /user/funding/history).
FUNDING = "FUNDING"
# Not sent by Extended: put in the queue by the stream data source after a reconnection (or a seq gap), so that
# the connector reconciles over REST what the interruption may have hidden.
RECONCILE = "RECONCILE"
ACCOUNT_MESSAGE_TYPES = frozenset({ORDER, TRADE, BALANCE, POSITION, FUNDING})

TRADE_TYPE_TRADE = "TRADE"
TRADE_TYPE_LIQUIDATION = "LIQUIDATION"
TRADE_TYPE_DELEVERAGE = "DELEVERAGE"

_ZERO = Decimal("0")


class MalformedMessageError(ValueError):
    """An account message or REST item lacks a field or carries an unparsable one."""


class ExtendedAPIError(IOError):
    """A REST error: HTTP status, Extended error code (int when documented) and message, explained."""

    def __init__(self, http_status: Optional[int], code: Any, message: str):
        self.http_status = http_status
        self.code = code
        self.message = message
        super().__init__(describe_error(http_status, code, message))

    @property
    def is_not_found(self) -> bool:
        return CONSTANTS.HTTP_NOT_FOUND in (self.http_status, self.code) or self.code == "NOT_FOUND"

    @property
    def is_rate_limited(self) -> bool:
        return CONSTANTS.HTTP_TOO_MANY_REQUESTS in (self.http_status, self.code)

    @property
    def is_server_error(self) -> bool:
        """HTTP 5xx: the server (or a proxy before it) failed; whether the request took effect is unknown."""
        return self.http_status is not None and self.http_status >= CONSTANTS.HTTP_SERVER_ERROR


def describe_error(http_status: Optional[int], code: Any, message: str) -> str:
    """``Extended error 1140 (OrderCostExceedsBalance: ...): <server message> [HTTP 400]`` (no HTTP part when the
    status is not known, e.g. an error envelope read from an already-accepted answer)."""
    explanation = CONSTANTS.ERROR_CODES.get(code) if isinstance(code, int) else None
    if explanation is None:
        explanation = CONSTANTS.ERROR_CODES.get(http_status, "unexpected error")
    code_text = code if code not in (None, "") else http_status
    detail = f": {message}" if message else ""
    http_part = f" [HTTP {http_status}]" if http_status is not None else ""
    return f"Extended error {code_text} ({explanation}){detail}{http_part}"


def _code(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def error_from_envelope(body: Mapping[str, Any]) -> ExtendedAPIError:
    """The error of an ``{"status": "ERROR", "error": {code, message}}`` envelope whose HTTP status is unknown."""
    error = body.get("error") or {}
    return ExtendedAPIError(None, _code(error.get("code")), str(error.get("message") or "unknown error"))


def error_from_response(http_status: int, body: Any) -> Optional[ExtendedAPIError]:
    """The error carried by a response (HTTP >= 400 or ``status: ERROR``), or None for a success."""
    is_error_body = isinstance(body, Mapping) and str(body.get("status", "")).upper() == "ERROR"
    if http_status < 400 and not is_error_body:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return ExtendedAPIError(http_status, _code(error.get("code")), str(error.get("message") or ""))
    text = body if isinstance(body, str) else ""
    return ExtendedAPIError(http_status, http_status if http_status >= 400 else None, text[:200])


def response_data(body: Any) -> Any:
    """The ``data`` of a successful REST envelope (``[]`` / ``{}`` may legitimately be empty)."""
    if not isinstance(body, Mapping) or "data" not in body:
        raise MalformedMessageError("REST response without a data field")
    return body["data"]


def response_cursor(body: Any) -> Optional[int]:
    """The ``pagination.cursor`` of a REST envelope (the id after which the next page starts), if any."""
    pagination = body.get("pagination") if isinstance(body, Mapping) else None
    cursor = pagination.get("cursor") if isinstance(pagination, Mapping) else None
    return cursor if isinstance(cursor, int) and not isinstance(cursor, bool) and cursor > 0 else None


# ---------------------------------------------------------------------------------------------------- fields
def _field(item: Mapping[str, Any], name: str) -> Any:
    try:
        value = item[name]
    except (KeyError, TypeError):
        raise MalformedMessageError(f"missing field {name!r}") from None
    if value is None:
        raise MalformedMessageError(f"field {name!r} is null")
    return value


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool):
        raise MalformedMessageError(f"field {name!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise MalformedMessageError(f"field {name!r} is not a number") from None
    if not number.is_finite():
        raise MalformedMessageError(f"field {name!r} is not a finite number")
    return number


def _req_decimal(item: Mapping[str, Any], name: str) -> Decimal:
    return _decimal(_field(item, name), name)


def _opt_decimal(item: Mapping[str, Any], name: str, default: Optional[Decimal] = None) -> Optional[Decimal]:
    value = item.get(name) if isinstance(item, Mapping) else None
    if value is None or value == "":
        return default
    return _decimal(value, name)


def _first_decimal(item: Mapping[str, Any], *names: str) -> Decimal:
    for name in names:
        value = _opt_decimal(item, name)
        if value is not None:
            return value
    raise MalformedMessageError(f"missing field {names[0]!r}")


def _int(item: Mapping[str, Any], name: str, default: Optional[int] = None) -> Optional[int]:
    value = item.get(name) if isinstance(item, Mapping) else None
    if value is None or value == "":
        if default is None:
            raise MalformedMessageError(f"missing field {name!r}")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MalformedMessageError(f"field {name!r} is not an integer") from None


def _text(item: Mapping[str, Any], name: str) -> str:
    return str(_field(item, name))


def _opt_text(item: Mapping[str, Any], *names: str) -> Optional[str]:
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else None
        if value not in (None, ""):
            return str(value)
    return None


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedMessageError(f"{what} is not an object")
    return value


# ---------------------------------------------------------------------------------------------------- items
@dataclass(frozen=True)
class AccountOrder:
    order_id: str
    external_id: Optional[str]
    market: str
    side: str
    order_type: str
    status: str
    status_reason: Optional[str]
    qty: Decimal
    filled_qty: Decimal
    price: Optional[Decimal]
    average_price: Optional[Decimal]
    payed_fee: Decimal
    reduce_only: bool
    post_only: bool
    updated_time_ms: int

    @property
    def is_open(self) -> bool:
        return self.status in CONSTANTS.OPEN_ORDER_STATUSES


def parse_order(item: Any) -> AccountOrder:
    item = _mapping(item, "order item")
    status = _text(item, "status")
    if status not in CONSTANTS.ORDER_STATE:
        raise MalformedMessageError(f"unknown order status {status!r}")
    created = _int(item, "createdTime", default=0)
    return AccountOrder(
        order_id=_text(item, "id"),
        external_id=_opt_text(item, "externalId"),
        market=_text(item, "market"),
        side=_text(item, "side"),
        order_type=_text(item, "type"),
        status=status,
        status_reason=_opt_text(item, "statusReason"),
        qty=_req_decimal(item, "qty"),
        filled_qty=_opt_decimal(item, "filledQty", _ZERO),
        price=_opt_decimal(item, "price"),
        average_price=_opt_decimal(item, "averagePrice"),
        payed_fee=_opt_decimal(item, "payedFee", _ZERO),
        reduce_only=bool(item.get("reduceOnly", False)),
        post_only=bool(item.get("postOnly", False)),
        updated_time_ms=_int(item, "updatedTime", default=created or 0),
    )


@dataclass(frozen=True)
class AccountTrade:
    trade_id: str
    order_id: str
    external_order_id: Optional[str]
    market: str
    side: str
    price: Decimal
    qty: Decimal
    value: Decimal
    fee: Decimal
    trade_type: str
    is_taker: bool
    created_time_ms: int


def parse_trade(item: Any) -> AccountTrade:
    """A fill; ``price``/``qty`` as in the examples, ``averagePrice``/``filledQty`` as in the field table."""
    item = _mapping(item, "trade item")
    price = _first_decimal(item, "price", "averagePrice")
    qty = _first_decimal(item, "qty", "filledQty")
    return AccountTrade(
        trade_id=_text(item, "id"),
        order_id=_text(item, "orderId"),
        external_order_id=_opt_text(item, "externalOrderId", "externalId"),
        market=_text(item, "market"),
        side=_text(item, "side"),
        price=price,
        qty=qty,
        value=_opt_decimal(item, "value", price * qty),
        fee=_opt_decimal(item, "fee", _ZERO),
        trade_type=str(item.get("tradeType") or TRADE_TYPE_TRADE),
        is_taker=bool(item.get("isTaker", True)),
        created_time_ms=_int(item, "createdTime"),
    )


@dataclass(frozen=True)
class AccountBalance:
    collateral: str
    balance: Decimal
    equity: Decimal
    available_for_trade: Decimal
    unrealised_pnl: Decimal


def parse_balance(item: Any) -> AccountBalance:
    item = _mapping(item, "balance")
    return AccountBalance(
        collateral=_text(item, "collateralName"),
        balance=_req_decimal(item, "balance"),
        equity=_req_decimal(item, "equity"),
        available_for_trade=_req_decimal(item, "availableForTrade"),
        unrealised_pnl=_opt_decimal(item, "unrealisedPnl", _ZERO),
    )


@dataclass(frozen=True)
class AccountPosition:
    market: str
    side: str
    size: Decimal
    open_price: Decimal
    unrealised_pnl: Decimal
    leverage: Decimal

    @property
    def is_closed(self) -> bool:
        return self.size == _ZERO

    @property
    def signed_size(self) -> Decimal:
        return -self.size if self.side == CONSTANTS.POSITION_SIDE_SHORT else self.size


def parse_position(item: Any) -> AccountPosition:
    item = _mapping(item, "position item")
    side = _text(item, "side")
    if side not in (CONSTANTS.POSITION_SIDE_LONG, CONSTANTS.POSITION_SIDE_SHORT):
        raise MalformedMessageError(f"unknown position side {side!r}")
    size = abs(_req_decimal(item, "size"))
    if str(item.get("status", "")).upper() == "CLOSED":
        size = _ZERO
    return AccountPosition(
        market=_text(item, "market"),
        side=side,
        size=size,
        open_price=_opt_decimal(item, "openPrice", _ZERO),
        unrealised_pnl=_opt_decimal(item, "unrealisedPnl", _ZERO),
        leverage=_opt_decimal(item, "leverage", Decimal("1")),
    )


@dataclass(frozen=True)
class FundingPayment:
    payment_id: str
    market: str
    side: str
    funding_fee: Decimal
    funding_rate: Decimal
    paid_time_ms: int

    @property
    def amount(self) -> Decimal:
        """Received (> 0) or paid (< 0) by the account. The documentation does not say which sign ``fundingFee``
        carries, so the direction comes from the rule itself: longs pay a positive rate, shorts a negative one."""
        pays = (self.side == CONSTANTS.POSITION_SIDE_LONG) == (self.funding_rate > 0)
        return -abs(self.funding_fee) if pays else abs(self.funding_fee)


def parse_funding_payment(item: Any) -> FundingPayment:
    item = _mapping(item, "funding payment item")
    return FundingPayment(
        payment_id=_text(item, "id"),
        market=_text(item, "market"),
        side=_text(item, "side"),
        funding_fee=_req_decimal(item, "fundingFee"),
        funding_rate=_req_decimal(item, "fundingRate"),
        paid_time_ms=_int(item, "paidTime"),
    )


@dataclass(frozen=True)
class MarketLeverage:
    market: str
    leverage: Decimal


def parse_leverage(item: Any) -> MarketLeverage:
    item = _mapping(item, "leverage item")
    return MarketLeverage(market=_text(item, "market"), leverage=_req_decimal(item, "leverage"))


@dataclass(frozen=True)
class MarketFees:
    market: str
    maker: Decimal
    taker: Decimal


def parse_fees(item: Any) -> MarketFees:
    item = _mapping(item, "fee item")
    return MarketFees(market=_text(item, "market"), maker=_req_decimal(item, "makerFeeRate"),
                      taker=_req_decimal(item, "takerFeeRate"))


def parse_list(data: Any, parser: Callable[[Any], Any]) -> List[Any]:
    """Parse a REST ``data`` list (a single object is accepted as a one-item list)."""
    if data is None:
        return []
    items = data if isinstance(data, list) else [data]
    return [parser(item) for item in items]


# ---------------------------------------------------------------------------------------------------- stream
@dataclass(frozen=True)
class StreamMessage:
    """One account stream message. ``items`` holds the parsed orders / trades / positions / the balance."""

    type: str
    seq: Optional[int]
    ts: Optional[int]
    is_snapshot: bool
    items: Tuple[Any, ...]
    skipped: Tuple[str, ...] = ()  # why some items could not be read (they are left out of ``items``)


_STREAM_PAYLOADS: Dict[str, Tuple[str, Callable[[Any], Any]]] = {
    ORDER: ("orders", parse_order),
    TRADE: ("trades", parse_trade),
    POSITION: ("positions", parse_position),
}


def _stream_items(message_type: str, data: Mapping[str, Any]) -> Tuple[Tuple[Any, ...], Tuple[str, ...]]:
    """The message's parsed items, and why those that could not be parsed were left out: one item of an unknown
    shape (say, an order type this connector does not place) does not cost the others."""
    if message_type == FUNDING:
        return (), ()
    if message_type == BALANCE:
        return (parse_balance(_field(data, "balance")),), ()
    key, parser = _STREAM_PAYLOADS[message_type]
    items = data.get(key) or []
    if not isinstance(items, list):
        raise MalformedMessageError(f"field {key!r} is not a list")
    parsed, skipped = [], []
    for item in items:
        try:
            parsed.append(parser(item))
        except MalformedMessageError as error:
            skipped.append(str(error))
    return tuple(parsed), tuple(skipped)


def parse_stream_message(raw: Any) -> StreamMessage:
    """Parse an account stream message; unknown types and malformed payloads raise MalformedMessageError (a
    malformed item of a list is left out and named in ``skipped``)."""
    raw = _mapping(raw, "account stream message")
    message_type = str(raw.get("type", ""))
    if message_type == RECONCILE:
        return StreamMessage(RECONCILE, None, None, False, ())
    if message_type not in ACCOUNT_MESSAGE_TYPES:
        raise MalformedMessageError(f"unknown account message type {message_type!r}")
    data = _mapping(raw.get("data"), f"{message_type} data")
    seq = raw.get("seq")
    items, skipped = _stream_items(message_type, data)
    return StreamMessage(
        type=message_type,
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        ts=raw.get("ts") if isinstance(raw.get("ts"), int) else None,
        # a snapshot with a hole is applied as updates: what it lacks may be what could not be read, not gone
        is_snapshot=bool(data.get("isSnapshot", False)) and not skipped,
        items=items,
        skipped=skipped,
    )


def reconcile_message(reason: str) -> Dict[str, str]:
    """The marker the stream data source queues after a reconnection."""
    return {"type": RECONCILE, "reason": reason}
