"""Extended public market data for Hummingbot: order books, public trades, funding info.

Stream layout: one order book socket per pair (``/orderbooks/BTC-USD``), and one all-markets socket for each of the
four other public streams (``/publicTrades``, ``/funding``, ``/prices/mark``, ``/prices/index``), filtered here to the
subscribed pairs: ``pairs + 4`` sockets instead of ``5 * pairs``. Hummingbot shares one aiohttp session (a pool of 100
connections) among REST and every websocket, so five sockets per pair exhausted it at 20 pairs (101 sockets with the
account stream) and REST requests then waited forever.

* Order books stay per market: ``seq`` is per connection, so a gap on one market's book resynchronises that market
  alone; the all-markets order book stream would carry (and make us parse) full-depth traffic of every Extended
  market and turn any gap into a resync of all of them.
* Trades, funding, mark and index prices are light (one small message per market and event), so the all-markets
  streams cost little to filter. Their ``seq`` counts the messages of the connection, all markets together: a gap on
  the mark or index stream reconnects THAT stream (its snapshot on connect restores every market's price); trades
  and funding skip out-of-order messages. Subscribing or unsubscribing a pair opens or closes its order book socket
  and changes the filter of the all-markets streams.

Order book: Extended sends a SNAPSHOT (seq 1) then DELTAs whose quantities are *changes*. Hummingbot's
``OrderBook`` applies diffs as absolute levels, so the data source keeps its own per-pair book and hands the tracker
the absolute level of every touched price (0 = remove). Every book message reaches the tracker as a DIFF,
snapshots included (a snapshot becomes: the new levels, plus 0 for each level the book held that the snapshot
lacks). Hummingbot's own snapshot path is avoided on purpose: ``restore_from_snapshot_and_diffs`` replays the
tracker's last 32 diffs over a snapshot whatever their update ids, which would resurrect removed levels.
Update ids come from one per-data-source counter (the wire ``seq`` restarts at 1 on every connection).

REST budget: last traded prices (asked by Hummingbot's order book tracker every few seconds for any pair without a
trade for 3 minutes) are answered from the streams -- the pair's last public trade, else its mark price -- and only
pairs with neither use ``/info/markets``, through one cache shared by all pairs (``LAST_PRICE_CACHE_SECONDS``).
Funding info at start-up comes from the ``marketStats`` of one ``/info/markets`` shared by the per-pair calls made
within ``FUNDING_INFO_SHARE_SECONDS`` (``/info/markets/{m}/stats`` only for a market without statistics). Then mark
price, index price and next funding time follow the streams; the current (predicted) funding rate, which no stream
carries (``/funding`` brings the applied rate: history), is read again from one ``/info/markets`` every
``FUNDING_RATE_REFRESH_SECONDS`` for all the streamed pairs.
"""
import asyncio
import itertools
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_markets as markets,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.funding_info import FundingInfo, FundingInfoUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.data_type.perpetual_api_order_book_data_source import PerpetualAPIOrderBookDataSource
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant

if TYPE_CHECKING:
    from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
        ExtendedPerpetualDerivative,
    )

_BUY = float(TradeType.BUY.value)
_SELL = float(TradeType.SELL.value)
Level = Tuple[float, float]
PairMessage = Tuple[str, Dict[str, Any]]  # (trading pair, stream payload) as queued by the stream tasks
ORDER_BOOK_DIFF = OrderBookMessageType.DIFF
BOOK_MESSAGE_ERRORS = (markets.MarketDataFormatError, markets.BookDesyncError)
# ``OrderBookMessage`` is a namedtuple whose ``__new__`` only passes its arguments on: ``tuple.__new__`` (what the
# namedtuple's own ``_make`` calls) builds the identical message, minus the keyword-argument call (hot path)
new_tuple = tuple.__new__


class BookDiffMessage(OrderBookMessage):
    """A DIFF carrying its rows as ``OrderBookRow``s, built once when the message is made.

    Hummingbot's ``OrderBookMessage.bids`` / ``.asks`` rebuild every row from ``[price, amount]`` pairs on each
    read (a ``float`` of each, the update id looked up per row): the tracker reads them for every diff it applies,
    and again for the diffs it replays. Here the rows are ready, and the properties hand them out.
    """

    __slots__ = ()

    def __gt__(self, other: OrderBookMessage) -> bool:
        # Python tries a subclass's reflected method first: ``message < diff`` lands here, and must mean what
        # ``OrderBookMessage.__lt__`` says (tuple's own ``>`` would compare the message types and fail)
        return OrderBookMessage.__lt__(other, self)

    @property
    def bids(self) -> List[OrderBookRow]:
        return self.content["bids"]

    @property
    def asks(self) -> List[OrderBookRow]:
        return self.content["asks"]


class LocalOrderBook(markets.AdditiveOrderBook):
    """The exchange's book for one pair (exact: see ``AdditiveOrderBook``), and whether the stream built it."""

    __slots__ = ("streamed",)

    def __init__(self):
        super().__init__()
        self.streamed = False  # a stream SNAPSHOT was applied at least once

    def replace(self, bid_levels: List[Dict[str, Any]],
                ask_levels: List[Dict[str, Any]]) -> Tuple[List[Level], List[Level]]:
        rows = super().replace(bid_levels, ask_levels)
        self.streamed = True
        return rows


class StreamKind:
    """A public stream: its path, the queue its messages go to, whether a seq gap forces a reconnect, and whether it
    is an all-markets stream (path without the market segment, messages filtered to the subscribed pairs)."""

    __slots__ = ("name", "path", "queue_key", "reconnect_on_gap", "all_markets")

    def __init__(self, name: str, path: str, queue_key: str, reconnect_on_gap: bool, all_markets: bool = False):
        self.name, self.path, self.queue_key, self.reconnect_on_gap = name, path, queue_key, reconnect_on_gap
        self.all_markets = all_markets


def all_markets_path(path_template: str) -> str:
    """``/prices/mark/{market}`` -> ``/prices/mark``: Extended's stream of every market."""
    return path_template.replace("/{market}", "")


class ExtendedPerpetualAPIOrderBookDataSource(PerpetualAPIOrderBookDataSource):
    RECONNECT_INITIAL_DELAY: float = CONSTANTS.WS_RECONNECT_INITIAL_DELAY
    RECONNECT_MAX_DELAY: float = CONSTANTS.WS_RECONNECT_MAX_DELAY
    RECEIVE_TIMEOUT: float = CONSTANTS.WS_RECEIVE_TIMEOUT
    HEARTBEAT_INTERVAL: float = CONSTANTS.WS_HEARTBEAT_TIME_INTERVAL
    LAST_PRICE_CACHE_SECONDS: float = 300.0  # /info/markets answer shared by the pairs the streams cannot price
    FUNDING_INFO_SHARE_SECONDS: float = 10.0  # /info/markets answer shared by the per-pair get_funding_info calls
    FUNDING_RATE_REFRESH_SECONDS: float = 60.0  # the current funding rate, recalculated by Extended every minute
    UNPRICED_PAIR_PAUSE: float = 1.0  # paces callers asking again at once for pairs no source can price

    def __init__(
        self,
        trading_pairs: List[str],
        connector: "ExtendedPerpetualDerivative",
        api_factory: WebAssistantsFactory,
        domain: str = CONSTANTS.DEFAULT_DOMAIN,
    ):
        super().__init__(trading_pairs)
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._update_ids = itertools.count(1)
        self._local_books: Dict[str, LocalOrderBook] = {pair: LocalOrderBook() for pair in trading_pairs}
        self._book_tasks: Dict[str, asyncio.Task] = {}  # trading pair -> its order book stream
        self._all_markets_tasks: Dict[StreamKind, asyncio.Task] = {}
        self._symbols: Dict[str, str] = {}  # streamed trading pair -> exchange market
        self._pairs_by_symbol: Dict[str, str] = {}  # the all-markets streams' filter: exchange market -> pair
        self._live_sockets: Set[WSAssistant] = set()
        self._listening = False
        self._stream_kinds = self._build_stream_kinds()
        self._book_kind, self._all_markets_kinds = self._stream_kinds[0], self._stream_kinds[1:]
        self._funding_kind = self._stream_kinds[2]
        self._funding_stream_connections = 0
        # Called when the funding stream comes back after a drop: an applied funding may have been missed.
        self.on_funding_stream_reconnected: Optional[Callable[[], None]] = None
        self._last_trade_prices: Dict[str, float] = {}  # pair -> price of its last public trade (stream)
        self._mark_prices: Dict[str, float] = {}  # pair -> its last mark price (stream)
        self._markets_cache: Optional[Tuple[float, Dict[str, markets.ExtendedMarket]]] = None  # (time, by name)
        self._markets_request: Optional[asyncio.Task] = None
        self._funding_handlers: Dict[Optional[str], Callable[[str, Dict[str, Any]], List[FundingInfoUpdate]]] = {
            markets.MARK_PRICE_TYPE: self._mark_price_updates,
            markets.INDEX_PRICE_TYPE: self._index_price_updates,
            None: self._applied_funding_updates,
        }

    def _build_stream_kinds(self) -> Tuple[StreamKind, ...]:
        funding_key = self._funding_info_messages_queue_key
        return (
            StreamKind("order book", CONSTANTS.WS_ORDER_BOOK_PATH, self._diff_messages_queue_key, True),
            StreamKind("public trades", all_markets_path(CONSTANTS.WS_PUBLIC_TRADES_PATH),
                       self._trade_messages_queue_key, False, all_markets=True),
            StreamKind("funding", all_markets_path(CONSTANTS.WS_FUNDING_PATH), funding_key, False, all_markets=True),
            StreamKind("mark price", all_markets_path(CONSTANTS.WS_MARK_PRICE_PATH), funding_key, True,
                       all_markets=True),
            StreamKind("index price", all_markets_path(CONSTANTS.WS_INDEX_PRICE_PATH), funding_key, True,
                       all_markets=True),
        )

    # ------------------------------------------------------------ REST

    async def _rest_get(self, path_template: str, **path_params: str) -> Any:
        rest_assistant = await self._api_factory.get_rest_assistant()
        return await rest_assistant.execute_request(
            url=web_utils.rest_url(path_template.format(**path_params), self._domain),
            throttler_limit_id=path_template,
            method=RESTMethod.GET,
        )

    async def _markets_by_name(self, max_age: float) -> Dict[str, markets.ExtendedMarket]:
        """``/info/markets`` by market name, at most ``max_age`` seconds old; concurrent callers share one request
        (a caller cancelled meanwhile does not cancel it for the others)."""
        cached = self._markets_cache
        if cached is not None and self._time() - cached[0] <= max_age:
            return cached[1]
        if self._markets_request is None or self._markets_request.done():
            self._markets_request = asyncio.ensure_future(self._fetch_markets())
            self._markets_request.add_done_callback(_retrieve_exception)
        return await asyncio.shield(self._markets_request)

    async def _fetch_markets(self) -> Dict[str, markets.ExtendedMarket]:
        requested_at = self._time()
        by_name = {market.name: market
                   for market in markets.parse_markets(await self._rest_get(CONSTANTS.MARKETS_PATH_URL))}
        self._markets_cache = (requested_at, by_name)
        return by_name

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        """Each pair's last public trade price from the trades stream, else its mark price from the mark stream;
        only the pairs with neither are read from ``lastPrice`` of ``/info/markets`` (one answer shared by all pairs
        for ``LAST_PRICE_CACHE_SECONDS``). A pair no source prices is left out (after a short pause: Hummingbot's
        tracker asks again at once for a pair its answer lacks)."""
        result: Dict[str, float] = {}
        unpriced = []
        for trading_pair in trading_pairs:
            price = self._last_trade_prices.get(trading_pair) or self._mark_prices.get(trading_pair)
            if price is None:
                unpriced.append(trading_pair)
            else:
                result[trading_pair] = price
        if unpriced:
            prices = markets.last_traded_prices((await self._markets_by_name(self.LAST_PRICE_CACHE_SECONDS)).values())
            for trading_pair in unpriced:
                try:
                    symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
                except KeyError:
                    continue  # not a tradable market (any more): no price rather than no prices at all
                if symbol in prices:
                    result[trading_pair] = float(prices[symbol])
            if len(result) < len(trading_pairs):
                await self._sleep(self.UNPRICED_PAIR_PAUSE)
        return result

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        """Mark, index, current funding rate and next funding time from the ``marketStats`` of ``/info/markets``
        (one answer shared by the calls of the next ``FUNDING_INFO_SHARE_SECONDS``: Hummingbot asks pair by pair), or
        from ``/info/markets/{m}/stats`` for a market listed without statistics."""
        symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        market = (await self._markets_by_name(self.FUNDING_INFO_SHARE_SECONDS)).get(symbol)
        if market is not None and market.stats is not None:
            stats = market.stats
        else:
            payload = await self._rest_get(CONSTANTS.MARKET_STATS_PATH_URL, market=symbol)
            stats = markets.parse_market_stats(markets.response_data(payload))
        return FundingInfo(
            trading_pair=trading_pair,
            index_price=stats.index_price,
            mark_price=stats.mark_price,
            next_funding_utc_timestamp=stats.next_funding_timestamp,
            rate=stats.funding_rate,
        )

    async def listen_for_funding_info(self, output: asyncio.Queue):
        """Hummingbot's listener of the funding-info streams and, beside it, the refresh of the current funding rate
        (the two end together)."""
        refresher = asyncio.ensure_future(self._refresh_funding_rates(output))
        try:
            await super().listen_for_funding_info(output)
        finally:
            refresher.cancel()

    async def _refresh_funding_rates(self, output: asyncio.Queue):
        """Every ``FUNDING_RATE_REFRESH_SECONDS``, the current funding rate of each streamed pair from one
        ``/info/markets``; a failed request is logged and tried again at the next period."""
        while True:
            await self._sleep(self.FUNDING_RATE_REFRESH_SECONDS)
            try:
                by_name = await self._markets_by_name(self.FUNDING_INFO_SHARE_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.logger().warning(f"The Extended funding rates could not be refreshed ({error!r}); trying again "
                                      f"in {self.FUNDING_RATE_REFRESH_SECONDS:g} s.")
                continue
            for update in self._funding_rate_updates(by_name):
                output.put_nowait(update)

    def _funding_rate_updates(self, by_name: Dict[str, markets.ExtendedMarket]) -> List[FundingInfoUpdate]:
        """The current rate of each streamed pair whose market is listed with statistics (the others: no update)."""
        return [FundingInfoUpdate(trading_pair, rate=market.stats.funding_rate)
                for trading_pair, symbol in list(self._symbols.items())
                if (market := by_name.get(symbol)) is not None and market.stats is not None]

    async def _order_book_snapshot(self, trading_pair: str) -> OrderBookMessage:
        """The REST order book, as a SNAPSHOT message with a fresh update id."""
        symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        snapshot = markets.parse_order_book_snapshot(await self._rest_get(CONSTANTS.ORDER_BOOK_PATH_URL, market=symbol))
        return OrderBookMessage(OrderBookMessageType.SNAPSHOT, {
            "trading_pair": trading_pair,
            "update_id": next(self._update_ids),
            "bids": [(float(price), float(qty)) for price, qty in snapshot.bids],
            "asks": [(float(price), float(qty)) for price, qty in snapshot.asks],
        }, timestamp=self._time())

    async def get_new_order_book(self, trading_pair: str) -> OrderBook:
        """The streamed book if there is one (diffs already handed out build on it), else the REST snapshot."""
        local_book = self._local_books.setdefault(trading_pair, LocalOrderBook())
        if not local_book.streamed:
            rest_snapshot = await self._order_book_snapshot(trading_pair)
            if not local_book.streamed:  # no stream snapshot arrived during the request
                return self._order_book_from_rest(local_book, rest_snapshot)
        bids, asks = local_book.rows()
        return self._order_book_from_levels(bids, asks, next(self._update_ids))

    def _order_book_from_rest(self, local_book: LocalOrderBook, snapshot: OrderBookMessage) -> OrderBook:
        content = snapshot.content
        local_book.seed(content["bids"], content["asks"])
        return self._order_book_from_levels(content["bids"], content["asks"], snapshot.update_id)

    def _order_book_from_levels(self, bids: List[Level], asks: List[Level], update_id: int) -> OrderBook:
        order_book = self.order_book_create_function()
        order_book.apply_snapshot([OrderBookRow(price, qty, update_id) for price, qty in bids],
                                  [OrderBookRow(price, qty, update_id) for price, qty in asks], update_id)
        return order_book

    # ------------------------------------------------------------ streams

    @property
    def last_recv_time(self) -> float:
        """When the most recent message (data or ping) arrived on any open public socket; 0 if none is open."""
        return max((ws.last_recv_time for ws in self._live_sockets), default=0.0)

    async def listen_for_subscriptions(self):
        """Runs the self-reconnecting stream tasks (one order book stream per pair, one all-markets stream for each
        other kind) until cancelled."""
        self._listening = True
        try:
            for trading_pair in list(self._trading_pairs):
                await self._start_pair_streams(trading_pair)
            for kind in self._all_markets_kinds:
                self._all_markets_tasks[kind] = asyncio.ensure_future(self._run_stream(kind))
            await asyncio.get_running_loop().create_future()  # the stream tasks do the work; wait for cancel
        finally:
            self._listening = False
            for trading_pair in list(self._book_tasks):
                self._stop_pair_streams(trading_pair)
            for task in self._all_markets_tasks.values():
                task.cancel()
            self._all_markets_tasks.clear()

    async def _start_pair_streams(self, trading_pair: str) -> bool:
        """Opens the pair's order book stream and adds it to the all-markets streams' filter."""
        if trading_pair in self._book_tasks:
            return True
        try:
            symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        except KeyError:
            self.logger().error(f"{trading_pair} is not a tradable Extended market; not streaming it.")
            return False
        self._local_books.setdefault(trading_pair, LocalOrderBook())
        self._symbols[trading_pair] = symbol
        self._pairs_by_symbol[symbol] = trading_pair
        self._book_tasks[trading_pair] = asyncio.ensure_future(self._run_stream(self._book_kind, trading_pair, symbol))
        return True

    def _stop_pair_streams(self, trading_pair: str):
        symbol = self._symbols.get(trading_pair)
        if symbol is not None and self._pairs_by_symbol.get(symbol) == trading_pair:
            del self._pairs_by_symbol[symbol]
        task = self._book_tasks.pop(trading_pair, None)
        if task is not None:
            task.cancel()

    def _restart_order_book_stream(self, trading_pair: str):
        """Drops the pair's order book connection and opens a new one (after the initial backoff pause)."""
        task = self._book_tasks.get(trading_pair)
        if task is None:
            return
        task.cancel()
        self._book_tasks[trading_pair] = asyncio.ensure_future(
            self._run_stream(self._book_kind, trading_pair, self._symbols[trading_pair], pause_first=True))

    async def _run_stream(self, kind: StreamKind, trading_pair: Optional[str] = None, symbol: Optional[str] = None,
                          pause_first: bool = False):
        """Connect, read until the socket fails or a seq gap, pause (backoff), reconnect; forever. An all-markets
        stream has no pair nor symbol."""
        delay = self.RECONNECT_INITIAL_DELAY
        if pause_first:
            await self._sleep(delay)
        label = f"{kind.name} stream of {trading_pair}" if trading_pair else f"all-markets {kind.name} stream"
        while True:
            try:
                if await self._read_stream(kind, trading_pair, symbol):
                    delay = self.RECONNECT_INITIAL_DELAY
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.logger().warning(f"Extended {label} failed ({error!r}); reconnecting in {delay:.1f}s.")
            await self._sleep(delay)
            delay = min(delay * 2, self.RECONNECT_MAX_DELAY)

    def _note_funding_stream_connected(self):
        self._funding_stream_connections += 1
        if self._funding_stream_connections > 1 and self.on_funding_stream_reconnected is not None:
            self.on_funding_stream_reconnected()

    async def _connected_stream(self, kind: StreamKind, symbol: Optional[str]) -> WSAssistant:
        ws = await self._api_factory.get_ws_assistant()
        path = kind.path if kind.all_markets else kind.path.format(market=symbol)
        await ws.connect(
            ws_url=web_utils.wss_url(path, self._domain),
            ping_timeout=self.HEARTBEAT_INTERVAL,
            message_timeout=self.RECEIVE_TIMEOUT,
            ws_headers=web_utils.public_ws_headers(),
        )
        return ws

    async def _read_stream(self, kind: StreamKind, trading_pair: Optional[str], symbol: Optional[str]) -> bool:
        """Queue ``(pair, payload)`` in seq order; returns (whether anything was received) on close or gap."""
        ws = await self._connected_stream(kind, symbol)
        self._live_sockets.add(ws)
        if kind is self._funding_kind:
            self._note_funding_stream_connected()
        queue_message = self._message_queue[kind.queue_key].put_nowait
        route = self._route_all_markets_message if kind.all_markets else None
        last_seq, received = 0, False
        try:
            while True:
                response = await ws.receive()
                if response is None:
                    return received
                payload = response.data
                seq = payload.get("seq") if type(payload) is dict else None
                if type(seq) is not int:
                    self.logger().warning(f"Ignoring a malformed Extended {kind.name} message: {payload!r:.200}")
                    continue
                if seq != last_seq + 1 and not self._accept_out_of_order(kind, trading_pair, seq, last_seq):
                    if kind.reconnect_on_gap:
                        return received
                    continue
                last_seq, received = seq, True
                if route is None:
                    queue_message((trading_pair, payload))
                else:
                    route(kind, payload, queue_message)
        finally:
            self._live_sockets.discard(ws)
            await ws.disconnect()

    def _route_all_markets_message(self, kind: StreamKind, payload: Dict[str, Any], queue_message: Callable):
        """An all-markets message -> ``(pair, payload)`` for each subscribed market it names (a list of items naming
        several markets is split per market); the other markets are dropped."""
        data = payload.get("data")
        pairs = self._pairs_by_symbol
        if type(data) is dict:
            market = data.get("m")
            if type(market) is not str:
                self.logger().warning(f"Ignoring an Extended {kind.name} message without market: {payload!r:.200}")
                return
            trading_pair = pairs.get(market)
            if trading_pair is not None:
                queue_message((trading_pair, payload))
            return
        if type(data) is not list:
            self.logger().warning(f"Ignoring a malformed Extended {kind.name} message: {payload!r:.200}")
            return
        items_by_pair: Dict[str, List[Any]] = {}
        for item in data:
            market = item.get("m") if type(item) is dict else None
            if type(market) is not str:
                self.logger().warning(f"Ignoring an Extended {kind.name} item without market: {item!r:.200}")
                continue
            trading_pair = pairs.get(market)
            if trading_pair is not None:
                items_by_pair.setdefault(trading_pair, []).append(item)
        for trading_pair, items in items_by_pair.items():
            queue_message((trading_pair, payload if len(items) == len(data) else {**payload, "data": items}))

    def _accept_out_of_order(self, kind: StreamKind, trading_pair: Optional[str], seq: int, last_seq: int) -> bool:
        """A gap on a stateful stream means reconnect; a stateless stream skips stale messages, accepts skips."""
        if kind.reconnect_on_gap:
            stream = f"{kind.name} stream of {trading_pair}" if trading_pair else f"all-markets {kind.name} stream"
            self.logger().warning(f"Extended {stream}: seq {seq} after {last_seq}; "
                                  f"reconnecting for a fresh snapshot.")
            return False
        return seq > last_seq

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        """Tracks the pair: its order book socket opens and the all-markets streams pass its messages, now if
        listening, else when listening starts."""
        try:
            await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        except KeyError:
            self.logger().error(f"Cannot subscribe to {trading_pair}: not a tradable Extended market.")
            return False
        self._local_books.setdefault(trading_pair, LocalOrderBook())
        self.add_trading_pair(trading_pair)
        if self._listening:
            await self._start_pair_streams(trading_pair)
        self.logger().info(f"Subscribed to {trading_pair} order book, trades and funding streams.")
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        """Closes the pair's order book socket, filters it out of the all-markets streams, forgets its book."""
        if trading_pair not in self._trading_pairs and trading_pair not in self._book_tasks:
            self.logger().warning(f"Cannot unsubscribe from {trading_pair}: not subscribed.")
            return False
        self._stop_pair_streams(trading_pair)
        self._local_books.pop(trading_pair, None)
        self._symbols.pop(trading_pair, None)
        self._last_trade_prices.pop(trading_pair, None)
        self._mark_prices.pop(trading_pair, None)
        self.remove_trading_pair(trading_pair)
        self.logger().info(f"Unsubscribed from {trading_pair} order book, trades and funding streams.")
        return True

    # ------------------------------------------------------------ message handlers (one per stream type)

    async def _parse_order_book_diff_message(self, raw_message: PairMessage, message_queue: asyncio.Queue):
        """SNAPSHOT or DELTA -> a DIFF of absolute levels for the touched prices (the hot path: kept flat)."""
        trading_pair, payload = raw_message
        local_book = self._local_books.get(trading_pair)
        if local_book is None:  # unsubscribed while the message was queued
            return
        try:
            applied = local_book.apply_message(payload)
        except BOOK_MESSAGE_ERRORS as error:
            local_book.note_failed_message(payload)
            self._request_resync(trading_pair, local_book, error)
            return
        if applied is None:  # a delta while awaiting a snapshot
            return
        bids, asks, timestamp = applied
        update_id = next(self._update_ids)
        message_queue.put_nowait(new_tuple(BookDiffMessage, (ORDER_BOOK_DIFF, {
            "trading_pair": trading_pair, "update_id": update_id,
            "bids": [new_tuple(OrderBookRow, (price, size, update_id)) for price, size in bids],
            "asks": [new_tuple(OrderBookRow, (price, size, update_id)) for price, size in asks],
        }, timestamp)))

    def _request_resync(self, trading_pair: str, local_book: LocalOrderBook, error: Exception):
        """A book message that cannot be applied leaves a hole in the book: reconnect for a fresh snapshot."""
        self.logger().warning(f"Extended order book message for {trading_pair} not applicable ({error}); "
                              f"reconnecting for a fresh snapshot.")
        local_book.awaiting_snapshot = True
        self._restart_order_book_stream(trading_pair)

    async def listen_for_order_book_snapshots(self, ev_loop: asyncio.AbstractEventLoop, output: asyncio.Queue):
        """Nothing to do: book resets reach the tracker as diffs (see the module docstring), so the periodic
        REST snapshot of the base class, replayed with stale diffs by Hummingbot, is not used."""
        await asyncio.get_running_loop().create_future()

    async def _parse_trade_message(self, raw_message: PairMessage, message_queue: asyncio.Queue):
        trading_pair, payload = raw_message
        trades = markets.parse_public_trades_message(payload)
        if trades and trading_pair in self._symbols:  # (not for a pair unsubscribed while the message was queued)
            self._last_trade_prices[trading_pair] = float(trades[-1].price)
        for trade in trades:
            message_queue.put_nowait(OrderBookMessage(OrderBookMessageType.TRADE, {
                "trading_pair": trading_pair,
                "trade_type": _BUY if trade.taker_side == CONSTANTS.SIDE_BUY else _SELL,
                "trade_id": trade.trade_id,
                "update_id": trade.timestamp_ms,
                "price": trade.price,
                "amount": trade.quantity,
                "exchange_trade_type": trade.trade_type,
            }, timestamp=trade.timestamp_ms * 1e-3))

    async def _parse_funding_info_message(self, raw_message: PairMessage, message_queue: asyncio.Queue):
        """Mark price, index price and applied-funding messages -> ``FundingInfoUpdate``."""
        trading_pair, payload = raw_message
        handler = self._funding_handlers.get(payload.get("type"))
        if handler is None:
            raise markets.MarketDataFormatError(f"unknown funding-info message type {payload.get('type')!r}")
        for update in handler(trading_pair, payload):
            message_queue.put_nowait(update)

    def _mark_price_updates(self, trading_pair: str, payload: Mapping[str, Any]) -> List[FundingInfoUpdate]:
        price = markets.parse_price_message(payload).price
        if trading_pair in self._symbols:  # (not for a pair unsubscribed while the message was queued)
            self._mark_prices[trading_pair] = float(price)
        return [FundingInfoUpdate(trading_pair, mark_price=price)]

    def _index_price_updates(self, trading_pair: str, payload: Mapping[str, Any]) -> List[FundingInfoUpdate]:
        return [FundingInfoUpdate(trading_pair, index_price=markets.parse_price_message(payload).price)]

    def _applied_funding_updates(self, trading_pair: str, payload: Mapping[str, Any]) -> List[FundingInfoUpdate]:
        """A funding payment just happened: the next one is an hour after it. The applied rate is history, not the
        current predicted rate, so the rate is left alone."""
        updates = []
        for applied in markets.parse_funding_message(payload):
            paid_at = markets.timestamp_seconds(applied.applied_at_ms)
            next_funding = paid_at - paid_at % CONSTANTS.FUNDING_INTERVAL_SECONDS + CONSTANTS.FUNDING_INTERVAL_SECONDS
            self.logger().debug(f"Extended applied funding rate {applied.rate} on {trading_pair} at {paid_at}.")
            updates.append(FundingInfoUpdate(trading_pair, next_funding_utc_timestamp=next_funding))
        return updates


def _retrieve_exception(task: asyncio.Task):
    """Marks a shared request's failure as seen (its callers got it, or were cancelled): no asyncio warning."""
    if not task.cancelled():
        task.exception()
