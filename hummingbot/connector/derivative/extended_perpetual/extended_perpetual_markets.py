"""Extended public market data: every public wire format parsed here, once, into immutable values.

REST: ``/info/markets`` (markets, trading config, l2Config, stats), ``/info/markets/{m}/stats``,
``/info/markets/{m}/orderbook``. Streams: ``orderbooks``, ``publicTrades``, ``funding``, ``prices/mark``,
``prices/index`` (per-market and all-markets streams have the same formats, each item naming its market ``m``).
A payload that does not match its documented shape raises ``MarketDataFormatError``.
"""
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Set, Tuple

from bidict import bidict

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
)
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


def response_data(payload: Any) -> Any:
    """The ``data`` of a REST envelope; raises the account module's ``ExtendedAPIError`` for an error answer."""
    if not isinstance(payload, Mapping):
        raise MarketDataFormatError(f"expected a JSON object, got {type(payload).__name__}")
    if str(payload.get("status", "")).upper() == "ERROR" or "error" in payload:
        raise messages.error_from_envelope(payload)
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
    """One ``orderbooks`` stream message, as a value (for tools that look at the stream; the data source's hot path
    reads the payload straight into an ``AdditiveOrderBook``, see ``AdditiveOrderBook.apply_message``).

    ``bids``/``asks`` are the wire levels ``{p, q}``: absolute sizes in a SNAPSHOT, size changes in a DELTA.
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


def parse_order_book_stream_message(payload: Mapping[str, Any]) -> OrderBookStreamUpdate:
    """``{"type": SNAPSHOT|DELTA, "ts", "seq", "data": {"m", "b": [{p, q}], "a": [...]}}``."""
    try:
        data = payload["data"]
        return OrderBookStreamUpdate(data["m"], _ORDER_BOOK_KINDS[payload["type"]], payload["seq"], payload["ts"],
                                     data.get("b") or _NO_LEVELS, data.get("a") or _NO_LEVELS)
    except _PARSE_ERRORS as error:
        raise MarketDataFormatError(f"malformed order book stream message: {error!r}") from error


MAX_SIZE_DECIMALS = 18  # a level size finer than 1e-18 is refused as malformed (Extended's size steps are coarser)
_MAX_SIZE_EXPONENT = 30  # nor is a size of 1e31 or more plausible
_FLOAT_EXACT_LIMIT = 10 ** 15  # float quantums stay below this: exact integers, 15 significant digits at most
_FLOAT_LIMIT = float(_FLOAT_EXACT_LIMIT)
_ROUNDER = 1.5 * 2.0 ** 52  # (y + _ROUNDER) - _ROUNDER is y rounded to an integer, for |y| < 2 ** 51
_FLOAT_TEXT_DIGITS = 15  # a size text this short has at most 15 significant digits (DBL_DIG)
_PRICE_CACHE_LIMIT = 1 << 14
_prices: Dict[Any, float] = {}  # price text -> float: a pure memo (books keep touching the same prices)
_INFINITY = float("inf")
Level = Tuple[float, float]


def _price(text: Any) -> float:
    """A level's price (a finite positive number) as a float, through the memo."""
    price = _prices.get(text)
    if price is None:
        price = float(text)
        if not 0.0 < price < _INFINITY:
            raise MarketDataFormatError(f"order book price {text!r} is not a finite positive number")
        if len(_prices) >= _PRICE_CACHE_LIMIT:
            _prices.clear()
        _prices[text] = price
    return price


class AdditiveOrderBook:
    """The exchange's book for one pair, rebuilt from stream SNAPSHOTs and additive DELTAs, exactly.

    Prices are floats (what Hummingbot's book keys on; a price text is parsed once, see ``_price``). A size is an
    exact integer count of the book's quantum ``10 ** -decimals``, so delta sums are integer sums: exact, like the
    Decimal sums they replace, without a Decimal per level. ``decimals`` is set by each SNAPSHOT (the fewest its
    sizes need) and widens (every held size multiplied, exactly) when a later size needs more; a size finer than
    ``10 ** -MAX_SIZE_DECIMALS`` is refused as malformed.

    The counts are floats holding integers below 10**15 (``exact_floats``: float sums of such integers are exact),
    read straight from the text: ``x = float("-0.0125")``, ``n = round(x * 10 ** decimals)``, kept only if
    ``n / 10 ** decimals == x`` for a text of at most 15 characters. Then both the text and ``n / 10 ** decimals``
    are decimals of at most 15 significant digits with the same double, hence equal (DBL_DIG = 15): ``n`` is the
    exact count. Any other text (longer, an exponent, finer than ``decimals``, zero) is read exactly by Decimal. A
    book whose counts outgrow 10**15 switches to Python ints for good (exact at any size, slower; the switch
    happening mid-delta costs one resynchronisation). Either way a size reaches Hummingbot as
    ``count / 10 ** decimals``, correctly rounded: the float ``float(Decimal(text))`` gave, bit for bit.

    Out of sync (``awaiting_snapshot``) the book ignores deltas until the next SNAPSHOT.
    """

    __slots__ = ("bids", "asks", "decimals", "unit", "float_unit", "exact_floats", "awaiting_snapshot",
                 "_unsettled_bids", "_unsettled_asks")

    def __init__(self):
        self.bids: Dict[float, Any] = {}  # price -> count of quantums (float or int, see exact_floats)
        self.asks: Dict[float, Any] = {}
        self.awaiting_snapshot = False
        self.exact_floats = True
        self._unsettled_bids: Set[float] = set()  # prices a failed message named (see note_failed_message)
        self._unsettled_asks: Set[float] = set()
        self._set_decimals(0)

    def _set_decimals(self, decimals: int):
        self.decimals = decimals
        self.unit = 10 ** decimals
        self.float_unit = float(self.unit)  # exact: decimals <= 22

    def _widen(self, decimals: int):
        factor = 10 ** (decimals - self.decimals)
        if self.exact_floats and any(size * factor >= _FLOAT_LIMIT for side in (self.bids, self.asks)
                                     for size in side.values()):
            self._to_integers()
        for side in (self.bids, self.asks):
            for price in side:
                side[price] *= factor
        self._set_decimals(decimals)

    def _to_integers(self):
        """From float counts to Python ints, for good (exact conversions: the floats hold integers)."""
        self.exact_floats = False
        for side in (self.bids, self.asks):
            for price, size in side.items():
                side[price] = int(size)

    # ------------------------------------------------------------ sizes

    def quantums(self, text: Any) -> int:
        """The exact size of a level text as an int count of quantums (widening the book if it needs more)."""
        if type(text) is str:
            whole, _, fraction = text.partition(".")
            digits = len(fraction)
            if digits <= self.decimals and fraction.isdecimal():
                return int(whole + fraction) * 10 ** (self.decimals - digits)
        return self._exact_quantums(text)

    def _exact_quantums(self, text: Any) -> int:
        """The general case of ``quantums``: integers, exponents, more decimals than the book has (widens it)."""
        if type(text) is not str:
            raise MarketDataFormatError(f"order book size {text!r} is not a decimal string")
        if text.isdecimal() or (text[:1] in "+-" and text[1:].isdecimal()):
            return int(text) * self.unit
        value = Decimal(text)
        if not value.is_finite():
            raise MarketDataFormatError(f"order book size {text!r} is not a finite number")
        sign, digits, exponent = value.as_tuple()
        if exponent > _MAX_SIZE_EXPONENT:
            raise MarketDataFormatError(f"order book size {text!r} is implausibly large")
        number, decimals = int("".join(map(str, digits))), -exponent
        while decimals > self.decimals and number and number % 10 == 0:  # 1.50000 needs one decimal, not five
            number, decimals = number // 10, decimals - 1
        if not number:
            return 0
        if decimals > self.decimals:
            if decimals > MAX_SIZE_DECIMALS:
                raise MarketDataFormatError(f"order book size {text!r} has more than {MAX_SIZE_DECIMALS} decimals")
            self._widen(decimals)
        number *= 10 ** (self.decimals - decimals)
        return -number if sign else number

    def _float_change(self, text: Any) -> float:
        """A delta size the inline float reading did not take, read exactly (it may widen the book); the book
        having to leave exact floats for it is a resynchronisation (the delta is partly applied)."""
        change = self._exact_quantums(text)
        if self.exact_floats and -_FLOAT_EXACT_LIMIT < change < _FLOAT_EXACT_LIMIT:
            return float(change)
        self._outgrown_floats()

    def _outgrown_floats(self):
        if self.exact_floats:
            self._to_integers()
        raise BookDesyncError("sizes outgrew exact floats: continuing with Python ints from a fresh snapshot")

    # ------------------------------------------------------------ messages

    def apply_message(self, payload: Mapping[str, Any], _float=float, _len=len, _rounder=_ROUNDER,
                      _limit=_FLOAT_LIMIT, _squared_limit=_FLOAT_LIMIT * _FLOAT_LIMIT, _digits=_FLOAT_TEXT_DIGITS,
                      _delta=ORDER_BOOK_DELTA, _no_levels=_NO_LEVELS,
                      _prices_get=_prices.get) -> Optional[Tuple[List[Level], List[Level], float]]:
        """A stream message applied: ``(bid rows, ask rows, timestamp in seconds)``, rows being the absolute
        ``(price, size)`` of every touched price (0.0 = removed); None for a delta ignored while out of sync.

        A DELTA adds its size changes to the levels (a level reaching zero is removed). A SNAPSHOT replaces the book
        (rows: its levels, plus 0.0 for each held level it lacks) and ends ``awaiting_snapshot``. Raises
        ``MarketDataFormatError`` (malformed) or ``BookDesyncError`` (a level below zero); the book is then partly
        updated, only a SNAPSHOT makes it whole again.

        The per-update hot path, kept flat: a delta's levels are added here in float counts (see the class
        docstring; the underscore arguments are pre-bound constants), or by ``_add_int_changes`` in int counts.
        """
        try:
            data, timestamp, kind = payload["data"], payload["ts"] * 1e-3, payload["type"]
            data["m"]  # noqa: B018 (documented field: a message without it is malformed)
            bid_levels, ask_levels = data.get("b") or _no_levels, data.get("a") or _no_levels
        except _PARSE_ERRORS as error:
            raise MarketDataFormatError(f"malformed order book stream message: {error!r}") from error
        if kind != _delta:
            if kind == ORDER_BOOK_SNAPSHOT:
                return (*self.replace(bid_levels, ask_levels), timestamp)
            raise MarketDataFormatError(f"unknown order book message type {kind!r}")
        if self.awaiting_snapshot:
            return None
        bid_rows: List[Level] = []
        ask_rows: List[Level] = []
        try:
            if not self.exact_floats:
                return self._add_int_changes(self.bids, bid_levels), self._add_int_changes(self.asks, ask_levels), \
                    timestamp
            unit = self.float_unit
            side = self.bids  # (the bids and asks loops are one loop, unrolled)
            held_size, append = side.get, bid_rows.append
            for level in bid_levels:
                text = level["p"]
                price = _prices_get(text) or _price(text)
                text = level["q"]
                x = _float(text)
                change = (x * unit + _rounder) - _rounder  # x * 10**decimals rounded to an integer
                # exact only if it gives x back, from a text of at most 15 digits, as a nonzero count < 10**15
                if change / unit != x or _len(text) > _digits or not 0.0 < change * change < _squared_limit:
                    change = self._float_change(text)
                    unit = self.float_unit  # it may have widened
                size = held_size(price, 0.0) + change
                if 0.0 < size < _limit:
                    side[price] = size
                    append((price, size / unit))
                elif size <= 0.0:
                    side.pop(price, None)
                    append((price, 0.0))
                    if size:
                        raise BookDesyncError(f"level {price} went to {Decimal(int(size)).scaleb(-self.decimals)}")
                else:
                    self._outgrown_floats()
            side = self.asks
            held_size, append = side.get, ask_rows.append
            for level in ask_levels:
                text = level["p"]
                price = _prices_get(text) or _price(text)
                text = level["q"]
                x = _float(text)
                change = (x * unit + _rounder) - _rounder  # x * 10**decimals rounded to an integer
                # exact only if it gives x back, from a text of at most 15 digits, as a nonzero count < 10**15
                if change / unit != x or _len(text) > _digits or not 0.0 < change * change < _squared_limit:
                    change = self._float_change(text)
                    unit = self.float_unit  # it may have widened
                size = held_size(price, 0.0) + change
                if 0.0 < size < _limit:
                    side[price] = size
                    append((price, size / unit))
                elif size <= 0.0:
                    side.pop(price, None)
                    append((price, 0.0))
                    if size:
                        raise BookDesyncError(f"level {price} went to {Decimal(int(size)).scaleb(-self.decimals)}")
                else:
                    self._outgrown_floats()
        except BookDesyncError:
            raise
        except _PARSE_ERRORS as error:
            raise MarketDataFormatError(f"malformed order book level: {error!r}") from error
        return bid_rows, ask_rows, timestamp

    def _add_int_changes(self, side: Dict[float, int], levels: List[Mapping[str, str]]) -> List[Level]:
        """A delta side added to ``side`` in int counts (books whose counts outgrew exact floats)."""
        rows: List[Level] = []
        append, held_size, quantums = rows.append, side.get, self.quantums
        for level in levels:
            price = _price(level["p"])
            size = held_size(price, 0) + quantums(level["q"])
            if size > 0:
                side[price] = size
                append((price, size / self.unit))
            else:
                side.pop(price, None)
                append((price, 0.0))
                if size:
                    raise BookDesyncError(f"level {price} went to {Decimal(size).scaleb(-self.decimals)}")
        return rows

    def _absolute_sizes(self, bid_levels: List[Mapping[str, Any]], ask_levels: List[Mapping[str, Any]],
                        keep_empty: bool) -> Tuple[Dict[float, Any], Dict[float, Any]]:
        """A new book's sides from absolute levels ``{p, q}``: decimals and number type chosen afresh for them.
        (Malformed levels leave the book as it was: its prices are what the next snapshot must clear.)"""
        held = self.bids, self.asks, self.decimals, self.exact_floats
        self.bids, self.asks, self.exact_floats = {}, {}, True
        self._set_decimals(0)
        try:
            while True:
                decimals, quantums = self.decimals, self.quantums
                sides = [{_price(level["p"]): quantums(level["q"]) for level in levels}
                         for levels in (bid_levels, ask_levels)]
                if self.decimals == decimals:  # else a size widened the book: read again at the final scale
                    break
        except _PARSE_ERRORS as error:
            self.bids, self.asks, decimals, self.exact_floats = held
            self._set_decimals(decimals)
            raise MarketDataFormatError(f"malformed order book level: {error!r}") from error
        if not keep_empty:
            sides = [{price: size for price, size in side.items() if size > 0} for side in sides]
        if all(-_FLOAT_EXACT_LIMIT < size < _FLOAT_EXACT_LIMIT for side in sides for size in side.values()):
            sides = [{price: float(size) for price, size in side.items()} for side in sides]
        else:
            self.exact_floats = False
        return sides[0], sides[1]

    def replace(self, bid_levels: List[Mapping[str, Any]],
                ask_levels: List[Mapping[str, Any]]) -> Tuple[List[Level], List[Level]]:
        """Replaces the book by absolute levels; the rows to hand over, with 0.0 for each level the new book lacks
        (the held levels, and those a failed message may have removed here but not from Hummingbot's book)."""
        old_bids, old_asks = self.bids.keys() | self._unsettled_bids, self.asks.keys() | self._unsettled_asks
        new_bids, new_asks = self._absolute_sizes(bid_levels, ask_levels, keep_empty=False)
        unit = self.unit
        bid_rows = [(price, 0.0) for price in old_bids if price not in new_bids]
        ask_rows = [(price, 0.0) for price in old_asks if price not in new_asks]
        self._unsettled_bids, self._unsettled_asks = set(), set()
        bid_rows.extend((price, size / unit) for price, size in new_bids.items())
        ask_rows.extend((price, size / unit) for price, size in new_asks.items())
        self.bids, self.asks, self.awaiting_snapshot = new_bids, new_asks, False
        return bid_rows, ask_rows

    def note_failed_message(self, payload: Any):
        """A message that failed part-way may have removed levels here whose removal never reached Hummingbot:
        remember every price it names, so the next SNAPSHOT clears them too (the failure path only)."""
        data = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(data, Mapping):
            return
        for levels, unsettled in ((data.get("b"), self._unsettled_bids), (data.get("a"), self._unsettled_asks)):
            for level in levels if isinstance(levels, list) else ():
                try:
                    unsettled.add(_price(level["p"]))
                except (MarketDataFormatError, *_PARSE_ERRORS):
                    continue

    def seed(self, bids: List[Level], asks: List[Level]):
        """Records levels Hummingbot got another way (a REST snapshot), so the next SNAPSHOT can clear what it lacks."""
        self.bids, self.asks = self._absolute_sizes([{"p": price, "q": repr(size)} for price, size in bids],
                                                    [{"p": price, "q": repr(size)} for price, size in asks],
                                                    keep_empty=True)

    def rows(self) -> Tuple[List[Level], List[Level]]:
        """The whole book as ``(price, size)`` rows."""
        unit = self.unit
        return ([(price, size / unit) for price, size in self.bids.items()],
                [(price, size / unit) for price, size in self.asks.items()])


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
