"""Stream endpoints under /stream.extended.exchange/v1 and their initial messages."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from aiohttp import web

from . import errors
from .accounts import balance_json
from .candles import CANDLE_TYPES, INTERVALS_MS
from .errors import ApiError
from .responses import emulator_of
from .streams import STREAM_PREFIX, StreamConnection

if TYPE_CHECKING:
    from .exchange import Exchange


def _market_param(request: web.Request, exchange: "Exchange") -> Optional[str]:
    market = request.match_info.get("market")
    if market is not None and market not in exchange.markets:
        raise ApiError("NOT_FOUND", "Market not found", 404)
    return market


def _markets(exchange: "Exchange", market: Optional[str]) -> List[str]:
    return [market] if market is not None else list(exchange.markets)


def orderbook_snapshot(exchange: "Exchange", market: str) -> dict:
    bids, asks = exchange.published_book(market)
    return {"ts": exchange.clock.now_ms(), "type": "SNAPSHOT", "data": {
        "t": "SNAPSHOT", "m": market,
        "b": [{"p": str(p), "q": str(bids[p])} for p in sorted(bids, reverse=True)],
        "a": [{"p": str(p), "q": str(asks[p])} for p in sorted(asks)]}}


def price_message(exchange: "Exchange", market: str, kind: str) -> dict:
    target = exchange.markets[market]
    price = target.mark_price if kind == "MP" else target.index_price
    now = exchange.clock.now_ms()
    return {"type": kind, "data": {"m": market, "p": str(price), "ts": now}, "ts": now, "sourceEventId": None}


def _public_handler(channel: str, initial_builder=None):
    async def handler(request: web.Request) -> web.WebSocketResponse:
        emulator = emulator_of(request)
        exchange = emulator.exchange
        market = _market_param(request, exchange)
        if channel == "orderbooks" and request.query.get("depth") == "1":
            return await _top_of_book(request, emulator, market)

        def initial() -> List[dict]:
            if initial_builder is None:
                return []
            return [initial_builder(exchange, m) for m in _markets(exchange, market)]
        return await emulator.hub.serve(
            request, lambda ws: StreamConnection(ws, request.path, channel, market), initial)
    return handler


async def _top_of_book(request: web.Request, emulator, market: Optional[str]) -> web.WebSocketResponse:
    exchange = emulator.exchange

    def initial() -> List[dict]:
        return [exchange.top_of_book_snapshot(m) for m in _markets(exchange, market)]
    return await emulator.hub.serve(
        request, lambda ws: StreamConnection(ws, request.path, "orderbooks/depth1", market), initial)


async def candles_stream(request: web.Request) -> web.WebSocketResponse:
    emulator = emulator_of(request)
    exchange = emulator.exchange
    market = _market_param(request, exchange)
    candle_type = request.match_info["candle_type"]
    interval = INTERVALS_MS.get(request.query.get("interval", ""))
    if candle_type not in CANDLE_TYPES or interval is None:
        raise ApiError(errors.NOT_SUPPORTED_INTERVAL, "Not supported interval or candle type", 400)

    def initial() -> List[dict]:
        return [{"ts": exchange.clock.now_ms(), "data": exchange.candles.candles(market, candle_type, interval, 1)}]

    def factory(ws):
        return StreamConnection(ws, request.path, "candles", market, candle_type=candle_type, interval_ms=interval)
    return await emulator.hub.serve(request, factory, initial)


def _api_key(request: web.Request) -> Optional[str]:
    key = request.headers.get("X-Api-Key")
    if key:
        return key
    for name, value in request.query.items():  # the live probe authenticated with ?X-API-KEY=
        if name.lower() == "x-api-key":
            return value
    return None


def account_snapshots(exchange: "Exchange", account) -> List[dict]:
    now = exchange.clock.now_ms()
    positions = [p.to_json(account.account_id, exchange.markets[m], account.leverage_for(m))
                 for m, p in account.positions.items()]
    orders = [o.to_json(stream=True) for o in account.open_orders()]
    return [
        {"type": "ORDER", "data": {"isSnapshot": True, "orders": orders}, "ts": now},
        {"type": "BALANCE", "data": {"isSnapshot": True, "balance": balance_json(account, exchange.markets, now)},
         "ts": now},
        {"type": "POSITION", "data": {"isSnapshot": True, "positions": positions}, "ts": now},
    ]


async def account_stream(request: web.Request) -> web.WebSocketResponse:
    emulator = emulator_of(request)
    exchange = emulator.exchange
    account = exchange.account_by_key(_api_key(request))
    if account is None:
        raise ApiError(errors.UNAUTHORIZED, "Unauthorized", 401)

    def factory(ws):
        return StreamConnection(ws, request.path, "account", account_id=account.account_id)
    return await emulator.hub.serve(request, factory, lambda: account_snapshots(exchange, account))


def add_routes(app: web.Application) -> None:
    public = {
        "orderbooks": ("orderbooks", orderbook_snapshot),
        "publicTrades": ("publicTrades", None),
        "funding": ("funding", None),
        "prices/mark": ("prices/mark", lambda ex, m: price_message(ex, m, "MP")),
        "prices/index": ("prices/index", lambda ex, m: price_message(ex, m, "IP")),
    }
    for path, (channel, builder) in public.items():
        handler = _public_handler(channel, builder)
        app.router.add_get(f"{STREAM_PREFIX}/{path}", handler)
        app.router.add_get(f"{STREAM_PREFIX}/{path}/{{market}}", handler)
    app.router.add_get(f"{STREAM_PREFIX}/candles/{{market}}/{{candle_type}}", candles_stream)
    app.router.add_get(f"{STREAM_PREFIX}/account", account_stream)
