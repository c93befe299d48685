"""Extended public market data: every public wire format parsed here, once, into immutable values.

REST: ``/info/markets`` (markets, trading config, l2Config, stats), ``/info/markets/{m}/stats``,
``/info/markets/{m}/orderbook``. Streams: ``orderbooks``, ``publicTrades``, ``funding``, ``prices/mark``,
``prices/index``. A payload that does not match its documented shape raises ``MarketDataFormatError``.
"""
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from bidict import bidict

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.trading_rule import TradingRule

_logger = logging.getLogger(__name__)

ORDER_BOOK_SNAPSHOT = "SNAPSHOT"
ORDER_BOOK_DELTA = "DELTA"
MARK_PRICE_TYPE = "MP"
INDEX_PRICE_TYPE = "IP"
_MILLISECONDS_THRESHOLD = 10 ** 11  # a seconds timestamp stays below this until the year 5138
_TRADABLE_STATUSES = frozenset({CONSTANTS.MARKET_STATUS_ACTIVE, CONSTANTS.MARKET_STATUS_REDUCE_ONLY})
_PARSE_ERRORS = (KeyError, TypeError, ValueError, InvalidOperation, AttributeError)


class MarketDataFormatError(ValueError):
    """A public payload that does not have its documented shape."""


class ExtendedApiError(IOError):
    """An ``{"status": "ERROR", "error": {...}}`` answer."""

    def __init__(self, code: Any, message: str):
        super().__init__(f"Extended error {code}: {message}")
        self.code = code


def response_data(payload: Any) -> Any:
    """The ``data`` of a REST envelope; raises ``ExtendedApiError`` for an error answer."""
    if not isinstance(payload, Mapping):
        raise MarketDataFormatError(f"expected a JSON object, got {type(payload).__name__}")
    if str(payload.get("status", "")).upper() == "ERROR" or "error" in payload:
        error = payload.get("error") or {}
        raise ExtendedApiError(error.get("code"), str(error.get("message", "unknown error")))
    if "data" not in payload:
        raise MarketDataFormatError("response without data")
    return payload["data"]


def timestamp_seconds(value: Any) -> int:
    """Epoch seconds from a timestamp given in seconds or milliseconds (the doc shows both)."""
    number = int(value)
    return number // 1000 if number >= _MILLISECONDS_THRESHOLD else number


def _decimal(mapping: Mapping[str, Any], key: str) -> Decimal:
    value = Decimal(str(mapping[key]))
    if not value.is_finite():
        raise MarketDataFormatError(f"{key} is not a finite number")
    return value


def _optional_decimal(mapping: Mapping[str, Any], key: str) -> Optional[Decimal]:
    return None if mapping.get(key) is None else _decimal(mapping, key)


# ---------------------------------------------------------------- markets and statistics

@dataclass(frozen=True)
class ExtendedMarketStats:
    last_price: Decimal
    ask_price: Optional[Decimal]
    bid_price: Optional[Decimal]
    mark_price: Decimal
    index_price: Decimal
    funding_rate: Decimal  # current (predicted) rate, recalculated every minute
    next_funding_timestamp: int  # epoch seconds (the wire field is misnamed ``nextFundingRate``)
    open_interest: Optional[Decimal]


def parse_market_stats(item: Mapping[str, Any]) -> ExtendedMarketStats:
    """``marketStats`` of ``/info/markets`` or ``data`` of ``/info/markets/{m}/stats``."""
    try:
        return ExtendedMarketStats(
            last_price=_decimal(item, "lastPrice"),
            ask_price=_optional_decimal(item, "askPrice"),
            bid_price=_optional_decimal(item, "bidPrice"),
            mark_price=_decimal(item, "markPrice"),
            index_price=_decimal(item, "indexPrice"),
            funding_rate=_decimal(item, "fundingRate"),
            next_funding_timestamp=timestamp_seconds(item["nextFundingRate"]),
            open_interest=_optional_decimal(item, "openInterest"),
        )
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed market stats: {error!r}") from error


@dataclass(frozen=True)
class ExtendedMarket:
    name: str
    asset_name: str
    collateral_asset_name: str
    status: str
    active: bool
    min_order_size: Decimal
    min_order_size_change: Decimal
    min_price_change: Decimal
    max_market_order_value: Decimal
    max_limit_order_value: Decimal
    max_position_value: Decimal
    max_leverage: Decimal
    max_num_orders: int
    limit_price_cap: Decimal
    limit_price_floor: Decimal
    l2_config: Mapping[str, Any]
    stats: Optional[ExtendedMarketStats]

    @property
    def is_tradable(self) -> bool:
        """ACTIVE, or REDUCE_ONLY (reduce-only orders still allowed); never DELISTED/PRELISTED/DISABLED."""
        return self.active and self.status in _TRADABLE_STATUSES

    @property
    def reduce_only(self) -> bool:
        return self.status == CONSTANTS.MARKET_STATUS_REDUCE_ONLY

    @property
    def trading_pair(self) -> str:
        """Hummingbot's pair: base ``assetName``, quote ``collateralAssetName``."""
        return f"{self.asset_name}-{self.collateral_asset_name}"


def _market_fields(item: Mapping[str, Any]) -> Dict[str, Any]:
    config = item["tradingConfig"]
    return dict(
        name=str(item["name"]),
        asset_name=str(item["assetName"]),
        collateral_asset_name=str(item["collateralAssetName"]),
        status=str(item["status"]),
        active=bool(item["active"]),
        min_order_size=_decimal(config, "minOrderSize"),
        min_order_size_change=_decimal(config, "minOrderSizeChange"),
        min_price_change=_decimal(config, "minPriceChange"),
        max_market_order_value=_decimal(config, "maxMarketOrderValue"),
        max_limit_order_value=_decimal(config, "maxLimitOrderValue"),
        max_position_value=_decimal(config, "maxPositionValue"),
        max_leverage=_decimal(config, "maxLeverage"),
        max_num_orders=int(config["maxNumOrders"]),
        limit_price_cap=_decimal(config, "limitPriceCap"),
        limit_price_floor=_decimal(config, "limitPriceFloor"),
        l2_config=dict(item["l2Config"]),
    )


def parse_market(item: Mapping[str, Any]) -> ExtendedMarket:
    """One element of ``/info/markets`` ``data``."""
    try:
        fields = _market_fields(item)
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed market {item.get('name') if isinstance(item, Mapping) else item!r}: "
                                    f"{error!r}") from error
    stats = item.get("marketStats")
    return ExtendedMarket(**fields, stats=parse_market_stats(stats) if stats else None)


def parse_markets(payload: Mapping[str, Any]) -> List[ExtendedMarket]:
    """The whole ``/info/markets`` answer; a malformed market is logged and left out."""
    items = response_data(payload)
    if not isinstance(items, list):
        raise MarketDataFormatError("markets data is not a list")
    markets = []
    for item in items:
        try:
            markets.append(parse_market(item))
        except MarketDataFormatError as error:
            _logger.warning(f"Ignoring an Extended market: {error}")
    return markets


def tradable_markets(markets: Iterable[ExtendedMarket]) -> List[ExtendedMarket]:
    """The markets Hummingbot may trade; the others are logged (status named) and left out."""
    tradable = []
    for market in markets:
        if market.is_tradable:
            tradable.append(market)
        else:
            _logger.info(f"Extended market {market.name} is {market.status} (active={market.active}): not tradable.")
    return tradable


def symbol_map_from_markets(markets: Iterable[ExtendedMarket]) -> bidict:
    """Exchange market name (``BTC-USD``) <-> Hummingbot trading pair, tradable markets only."""
    mapping = bidict()
    for market in tradable_markets(markets):
        if market.trading_pair in mapping.inverse:
            _logger.warning(f"Extended market {market.name} duplicates pair {market.trading_pair}: ignored.")
            continue
        mapping[market.name] = market.trading_pair
    return mapping


def trading_rule_from_market(market: ExtendedMarket, trading_pair: str) -> TradingRule:
    """Hummingbot rule: min size, size step, tick; collateral token as the markets name it (``USD``).

    TradingRule has no maximum order *value*; ``max_limit_order_value`` / ``max_market_order_value`` stay on
    the market for the derivative to check.
    """
    return TradingRule(
        trading_pair=trading_pair,
        min_order_size=market.min_order_size,
        min_price_increment=market.min_price_change,
        min_base_amount_increment=market.min_order_size_change,
        min_notional_size=Decimal("0"),
        buy_order_collateral_token=market.collateral_asset_name,
        sell_order_collateral_token=market.collateral_asset_name,
    )


def trading_rules_from_markets(markets: Iterable[ExtendedMarket]) -> List[TradingRule]:
    """One rule per tradable market (REDUCE_ONLY included: its rule stays, ``market.reduce_only`` flags it)."""
    return [trading_rule_from_market(market, market.trading_pair) for market in tradable_markets(markets)]


def last_traded_prices(markets: Iterable[ExtendedMarket]) -> Dict[str, Decimal]:
    """``lastPrice`` by exchange market name, for the markets that carry statistics."""
    return {market.name: market.stats.last_price for market in markets if market.stats is not None}


# ---------------------------------------------------------------- REST order book

@dataclass(frozen=True)
class OrderBookSnapshot:
    market: str
    bids: Tuple[Tuple[Decimal, Decimal], ...]  # (price, qty), best first
    asks: Tuple[Tuple[Decimal, Decimal], ...]


def _rest_levels(levels: Iterable[Mapping[str, Any]]) -> Tuple[Tuple[Decimal, Decimal], ...]:
    return tuple((_decimal(level, "price"), _decimal(level, "qty")) for level in levels)


def parse_order_book_snapshot(payload: Mapping[str, Any]) -> OrderBookSnapshot:
    """``/info/markets/{m}/orderbook``: keys ``bid`` / ``ask``, levels ``{qty, price}``."""
    data = response_data(payload)
    try:
        return OrderBookSnapshot(market=str(data["market"]), bids=_rest_levels(data["bid"]),
                                 asks=_rest_levels(data["ask"]))
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed order book: {error!r}") from error


# ---------------------------------------------------------------- streams

class OrderBookStreamUpdate(NamedTuple):
    """One ``orderbooks`` stream message (a NamedTuple: immutable, and cheaper than a dataclass per update).

    ``bids``/``asks`` are the wire levels ``{p, q}``, decoded by ``snapshot_levels`` (absolute sizes) or
    ``apply_level_changes`` (a delta's size changes) in the same pass that uses them.
    """
    market: str
    is_snapshot: bool
    seq: int
    timestamp_ms: int
    bids: List[Mapping[str, str]]
    asks: List[Mapping[str, str]]


class BookDesyncError(ValueError):
    """A delta took a level below zero: the local book no longer matches the exchange's."""


_ORDER_BOOK_KINDS = {ORDER_BOOK_SNAPSHOT: True, ORDER_BOOK_DELTA: False}
_NO_LEVELS: List[Mapping[str, str]] = []
_ZERO = Decimal("0")


def parse_order_book_stream_message(payload: Mapping[str, Any]) -> OrderBookStreamUpdate:
    """``{"type": SNAPSHOT|DELTA, "ts", "seq", "data": {"m", "b": [{p, q}], "a": [...]}}``."""
    try:
        data = payload["data"]
        return OrderBookStreamUpdate(data["m"], _ORDER_BOOK_KINDS[payload["type"]], payload["seq"], payload["ts"],
                                     data.get("b") or _NO_LEVELS, data.get("a") or _NO_LEVELS)
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed order book stream message: {error!r}") from error


def snapshot_levels(levels: List[Mapping[str, str]]) -> Dict[float, Decimal]:
    """A snapshot side: price (float) -> absolute size (Decimal), empty levels left out."""
    try:
        sizes = {float(level["p"]): Decimal(level["q"]) for level in levels}
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed order book level: {error!r}") from error
    return {price: size for price, size in sizes.items() if size > _ZERO}


def apply_level_changes(side: Dict[float, Decimal], levels: List[Mapping[str, str]],
                        _decimal=Decimal, _float=float, _zero=_ZERO) -> List[Tuple[float, float]]:
    """Adds a delta side's size changes to ``side`` (exact Decimal sums; a level reaching zero is removed).

    Returns ``(price, new absolute size)`` per touched price, 0.0 for a removed level. A malformed level raises
    ``MarketDataFormatError`` and a negative size ``BookDesyncError``, ``side`` then being partly updated.
    (Hot path: builtins pre-bound as defaults.)
    """
    rows = []
    append, side_get = rows.append, side.get
    try:
        for level in levels:
            price, change = _float(level["p"]), level["q"]
            held = side_get(price)
            size = _decimal(change) if held is None else held + _decimal(change)
            if size > _zero:
                side[price] = size
                append((price, _float(change) if held is None else _float(size)))
            else:
                side.pop(price, None)
                append((price, 0.0))
                if size < _zero:
                    raise BookDesyncError(f"level {price} went to {size}")
    except BookDesyncError:
        raise
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed order book level: {error!r}") from error
    return rows


@dataclass(frozen=True)
class PublicTrade:
    market: str
    trade_id: int
    taker_side: str  # BUY or SELL
    trade_type: str  # TRADE, LIQUIDATION or DELEVERAGE
    price: Decimal
    quantity: Decimal
    timestamp_ms: int


def _public_trade(item: Mapping[str, Any]) -> PublicTrade:
    side = str(item["S"]).upper()
    if side not in (CONSTANTS.SIDE_BUY, CONSTANTS.SIDE_SELL):
        raise MarketDataFormatError(f"unknown taker side {side!r}")
    return PublicTrade(market=str(item["m"]), trade_id=int(item["i"]), taker_side=side, trade_type=str(item["tT"]),
                       price=_decimal(item, "p"), quantity=_decimal(item, "q"), timestamp_ms=int(item["T"]))


def parse_public_trades_message(payload: Mapping[str, Any]) -> List[PublicTrade]:
    """``publicTrades`` stream (or ``/info/markets/{m}/trades`` data items): ``S``, ``i``, ``p``, ``q``, ``T``."""
    try:
        return [_public_trade(item) for item in _as_list(payload["data"])]
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed public trades message: {error!r}") from error


@dataclass(frozen=True)
class AppliedFundingRate:
    """A rate that was *applied* for an hourly funding payment (not the current predicted rate)."""
    market: str
    rate: Decimal
    applied_at_ms: int


def parse_funding_message(payload: Mapping[str, Any]) -> List[AppliedFundingRate]:
    """``funding`` stream: ``data`` (one object, or a list) of ``{m, T, f}``."""
    try:
        return [AppliedFundingRate(market=str(item["m"]), rate=_decimal(item, "f"), applied_at_ms=int(item["T"]))
                for item in _as_list(payload["data"])]
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed funding message: {error!r}") from error


@dataclass(frozen=True)
class PriceUpdate:
    market: str
    price_type: str  # MP (mark) or IP (index)
    price: Decimal
    timestamp_ms: int


def parse_price_message(payload: Mapping[str, Any]) -> PriceUpdate:
    """``prices/mark`` (type ``MP``) and ``prices/index`` (type ``IP``) streams."""
    try:
        price_type = payload["type"]
        if price_type not in (MARK_PRICE_TYPE, INDEX_PRICE_TYPE):
            raise MarketDataFormatError(f"unknown price message type {price_type!r}")
        data = payload["data"]
        return PriceUpdate(market=str(data["m"]), price_type=price_type, price=_decimal(data, "p"),
                           timestamp_ms=int(data.get("ts", payload.get("ts", 0))))
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed price message: {error!r}") from error


def _as_list(data: Any) -> List[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        return [data]
    raise MarketDataFormatError(f"expected an object or a list, got {type(data).__name__}")
