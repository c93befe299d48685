"""Extended public market data for Hummingbot: order books, public trades, funding info.

Stream layout: one socket per stream kind per market (``/orderbooks/BTC-USD``, ``/publicTrades/BTC-USD``, ...),
not the all-markets streams. ``seq`` is per connection, so a gap on one market's order book resynchronises that
market alone; the all-markets order book stream would carry (and make us parse) full-depth traffic of every
Extended market and turn any gap into a resync of all of them. Subscribing a pair is opening its sockets.

Order book: Extended sends a SNAPSHOT (seq 1) then DELTAs whose quantities are *changes*. Hummingbot's
``OrderBook`` applies diffs as absolute levels, so the data source keeps its own per-pair book and hands the tracker
the absolute level of every touched price (0 = remove). Every book message reaches the tracker as a DIFF,
snapshots included (a snapshot becomes: the new levels, plus 0 for each level the book held that the snapshot
lacks). Hummingbot's own snapshot path is avoided on purpose: ``restore_from_snapshot_and_diffs`` replays the
tracker's last 32 diffs over a snapshot whatever their update ids, which would resurrect removed levels.
Update ids come from one per-data-source counter (the wire ``seq`` restarts at 1 on every connection).
"""
import asyncio
import itertools
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

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
    """A public stream: its path, the queue its messages go to, and whether a seq gap forces a reconnect."""

    __slots__ = ("name", "path", "queue_key", "reconnect_on_gap")

    def __init__(self, name: str, path: str, queue_key: str, reconnect_on_gap: bool):
        self.name, self.path, self.queue_key, self.reconnect_on_gap = name, path, queue_key, reconnect_on_gap


class ExtendedPerpetualAPIOrderBookDataSource(PerpetualAPIOrderBookDataSource):
    RECONNECT_INITIAL_DELAY: float = CONSTANTS.WS_RECONNECT_INITIAL_DELAY
    RECONNECT_MAX_DELAY: float = CONSTANTS.WS_RECONNECT_MAX_DELAY
    RECEIVE_TIMEOUT: float = CONSTANTS.WS_RECEIVE_TIMEOUT
    HEARTBEAT_INTERVAL: float = CONSTANTS.WS_HEARTBEAT_TIME_INTERVAL

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
        self._stream_tasks: Dict[str, Dict[StreamKind, asyncio.Task]] = {}  # trading pair -> kind -> task
        self._symbols: Dict[str, str] = {}
        self._listening = False
        self._stream_kinds = self._build_stream_kinds()
        self._funding_handlers: Dict[Optional[str], Callable[[str, Dict[str, Any]], List[FundingInfoUpdate]]] = {
            markets.MARK_PRICE_TYPE: self._mark_price_updates,
            markets.INDEX_PRICE_TYPE: self._index_price_updates,
            None: self._applied_funding_updates,
        }

    def _build_stream_kinds(self) -> Tuple[StreamKind, ...]:
        funding_key = self._funding_info_messages_queue_key
        return (
            StreamKind("order book", CONSTANTS.WS_ORDER_BOOK_PATH, self._diff_messages_queue_key, True),
            StreamKind("public trades", CONSTANTS.WS_PUBLIC_TRADES_PATH, self._trade_messages_queue_key, False),
            StreamKind("funding", CONSTANTS.WS_FUNDING_PATH, funding_key, False),
            StreamKind("mark price", CONSTANTS.WS_MARK_PRICE_PATH, funding_key, True),
            StreamKind("index price", CONSTANTS.WS_INDEX_PRICE_PATH, funding_key, True),
        )

    # ------------------------------------------------------------ REST

    async def _rest_get(self, path_template: str, **path_params: str) -> Any:
        rest_assistant = await self._api_factory.get_rest_assistant()
        return await rest_assistant.execute_request(
            url=web_utils.rest_url(path_template.format(**path_params), self._domain),
            throttler_limit_id=path_template,
            method=RESTMethod.GET,
        )

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        """``lastPrice`` of each pair, from one ``/info/markets`` request."""
        prices = markets.last_traded_prices(markets.parse_markets(await self._rest_get(CONSTANTS.MARKETS_PATH_URL)))
        result = {}
        for trading_pair in trading_pairs:
            try:
                symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
            except KeyError:
                continue  # not a tradable market (any more): no price rather than no prices at all
            if symbol in prices:
                result[trading_pair] = float(prices[symbol])
        return result

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        """Mark, index, current funding rate and next funding time from ``/info/markets/{m}/stats``."""
        symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        payload = await self._rest_get(CONSTANTS.MARKET_STATS_PATH_URL, market=symbol)
        stats = markets.parse_market_stats(markets.response_data(payload))
        return FundingInfo(
            trading_pair=trading_pair,
            index_price=stats.index_price,
            mark_price=stats.mark_price,
            next_funding_utc_timestamp=stats.next_funding_timestamp,
            rate=stats.funding_rate,
        )

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

    async def listen_for_subscriptions(self):
        """Runs one self-reconnecting task per stream kind per pair until cancelled."""
        self._listening = True
        try:
            for trading_pair in list(self._trading_pairs):
                await self._start_pair_streams(trading_pair)
            await asyncio.get_running_loop().create_future()  # the stream tasks do the work; wait for cancel
        finally:
            self._listening = False
            for trading_pair in list(self._stream_tasks):
                self._stop_pair_streams(trading_pair)

    async def _start_pair_streams(self, trading_pair: str) -> bool:
        if trading_pair in self._stream_tasks:
            return True
        try:
            symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        except KeyError:
            self.logger().error(f"{trading_pair} is not a tradable Extended market; not streaming it.")
            return False
        self._local_books.setdefault(trading_pair, LocalOrderBook())
        self._symbols[trading_pair] = symbol
        self._stream_tasks[trading_pair] = {
            kind: asyncio.ensure_future(self._run_stream(kind, trading_pair, symbol)) for kind in self._stream_kinds}
        return True

    def _stop_pair_streams(self, trading_pair: str):
        for task in self._stream_tasks.pop(trading_pair, {}).values():
            task.cancel()

    def _restart_order_book_stream(self, trading_pair: str):
        """Drops the pair's order book connection and opens a new one (after the initial backoff pause)."""
        tasks = self._stream_tasks.get(trading_pair)
        if tasks is None:
            return
        kind = self._stream_kinds[0]
        tasks[kind].cancel()
        tasks[kind] = asyncio.ensure_future(
            self._run_stream(kind, trading_pair, self._symbols[trading_pair], pause_first=True))

    async def _run_stream(self, kind: StreamKind, trading_pair: str, symbol: str, pause_first: bool = False):
        """Connect, read until the socket fails or a seq gap, pause (backoff), reconnect; forever."""
        delay = self.RECONNECT_INITIAL_DELAY
        if pause_first:
            await self._sleep(delay)
        while True:
            try:
                if await self._read_stream(kind, trading_pair, symbol):
                    delay = self.RECONNECT_INITIAL_DELAY
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.logger().warning(f"Extended {kind.name} stream of {trading_pair} failed ({error!r}); "
                                      f"reconnecting in {delay:.1f}s.")
            await self._sleep(delay)
            delay = min(delay * 2, self.RECONNECT_MAX_DELAY)

    async def _connected_stream(self, kind: StreamKind, symbol: str) -> WSAssistant:
        ws = await self._api_factory.get_ws_assistant()
        await ws.connect(
            ws_url=web_utils.wss_url(kind.path.format(market=symbol), self._domain),
            ping_timeout=self.HEARTBEAT_INTERVAL,
            message_timeout=self.RECEIVE_TIMEOUT,
            ws_headers=web_utils.public_ws_headers(),
        )
        return ws

    async def _read_stream(self, kind: StreamKind, trading_pair: str, symbol: str) -> bool:
        """Queue ``(pair, payload)`` in seq order; returns (whether anything was received) on close or gap."""
        ws = await self._connected_stream(kind, symbol)
        queue_message = self._message_queue[kind.queue_key].put_nowait
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
                queue_message((trading_pair, payload))
        finally:
            await ws.disconnect()

    def _accept_out_of_order(self, kind: StreamKind, trading_pair: str, seq: int, last_seq: int) -> bool:
        """A gap on a stateful stream means reconnect; a stateless stream skips stale messages, accepts skips."""
        if kind.reconnect_on_gap:
            self.logger().warning(f"Extended {kind.name} stream of {trading_pair}: seq {seq} after {last_seq}; "
                                  f"reconnecting for a fresh snapshot.")
            return False
        return seq > last_seq

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        """Tracks the pair: its sockets open now if listening, else when listening starts."""
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
        """Closes the pair's sockets and forgets its book."""
        if trading_pair not in self._trading_pairs and trading_pair not in self._stream_tasks:
            self.logger().warning(f"Cannot unsubscribe from {trading_pair}: not subscribed.")
            return False
        self._stop_pair_streams(trading_pair)
        self._local_books.pop(trading_pair, None)
        self._symbols.pop(trading_pair, None)
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
        message_queue.put_nowait(new_tuple(OrderBookMessage, (ORDER_BOOK_DIFF, {
            "trading_pair": trading_pair, "update_id": next(self._update_ids), "bids": bids, "asks": asks,
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
        for trade in markets.parse_public_trades_message(payload):
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
        return [FundingInfoUpdate(trading_pair, mark_price=markets.parse_price_message(payload).price)]

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
