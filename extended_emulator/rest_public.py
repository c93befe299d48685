"""Public REST: markets, stats, order book, trades, candles, funding and open-interest history."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from . import errors
from .candles import CANDLE_TYPES, INTERVALS_MS
from .errors import ApiError
from .responses import emulator_of, int_query, markets_filter, ok, paginate

if TYPE_CHECKING:
    from .exchange import Exchange

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def exchange_of(request: web.Request) -> "Exchange":
    return emulator_of(request).exchange


def market_or_404(exchange: "Exchange", name: str):
    market = exchange.markets.get(name)
    if market is None:
        raise ApiError("NOT_FOUND", "Market not found", 404)  # code string as in the doc's example
    return market


def market_stats(exchange: "Exchange", name: str) -> dict:
    market = exchange.markets[name]
    now = exchange.clock.now_ms()
    day = [t for t in exchange.public_trades[name] if t["T"] >= now - DAY_MS]
    prices = [Decimal(t["p"]) for t in day]
    volume_base = sum((Decimal(t["q"]) for t in day), Decimal(0))
    volume = sum((Decimal(t["q"]) * Decimal(t["p"]) for t in day), Decimal(0))
    first, last = (prices[0], prices[-1]) if prices else (market.last_price, market.last_price)
    change = last - first
    book = exchange.books[name]
    open_base = sum((p.size for a in exchange.accounts.values() for m, p in a.positions.items()
                     if m == name and p.long), Decimal(0))
    return {
        "dailyVolume": str(volume), "dailyVolumeBase": str(volume_base), "dailyPriceChange": str(change),
        "dailyPriceChangePercentage": str((change / first * 100).quantize(Decimal("0.01"))) if first else "0",
        "dailyLow": str(min(prices)) if prices else str(market.last_price),
        "dailyHigh": str(max(prices)) if prices else str(market.last_price),
        "lastPrice": str(market.last_price), "askPrice": str(book.best(False) or 0),
        "bidPrice": str(book.best(True) or 0), "markPrice": str(market.mark_price),
        "indexPrice": str(market.index_price), "fundingRate": str(market.funding_rate),
        "nextFundingRate": (now // HOUR_MS + 1) * HOUR_MS,
        "openInterest": str(open_base * market.mark_price), "openInterestBase": str(open_base),
        "deleverageLevels": {"shortPositions": [], "longPositions": []},
    }


async def get_markets(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    wanted = markets_filter(request)
    names = [n for n in exchange.markets if not wanted or n in wanted]
    return ok([exchange.markets[n].to_json(market_stats(exchange, n)) for n in names])


async def get_market_stats(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    name = market_or_404(exchange, request.match_info["market"]).name
    return ok(market_stats(exchange, name))


async def get_orderbook(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    name = market_or_404(exchange, request.match_info["market"]).name
    bids, asks = exchange.published_book(name)
    return ok({
        "market": name,
        "bid": [{"qty": str(bids[p]), "price": str(p)} for p in sorted(bids, reverse=True)],
        "ask": [{"qty": str(asks[p]), "price": str(p)} for p in sorted(asks)],
    })


async def get_trades(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    name = market_or_404(exchange, request.match_info["market"]).name
    return ok(list(exchange.public_trades[name][-50:]))


def interval_ms(raw: str) -> int:
    if raw not in INTERVALS_MS:
        raise ApiError(errors.NOT_SUPPORTED_INTERVAL, "Not supported interval", 400)
    return INTERVALS_MS[raw]


async def get_candles(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    name = market_or_404(exchange, request.match_info["market"]).name
    candle_type = request.match_info["candle_type"]
    if candle_type not in CANDLE_TYPES:
        raise ApiError(errors.BAD_REQUEST, "candleType must be trades, mark-prices or index-prices", 400)
    interval = interval_ms(request.query.get("interval", ""))
    limit = int_query(request, "limit", required=True)
    end = int_query(request, "endTime")
    return ok(exchange.candles.candles(name, candle_type, interval, min(limit, 10_000), end))


async def get_funding_history(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    name = market_or_404(exchange, request.match_info["market"]).name
    start = int_query(request, "startTime", required=True)
    end = int_query(request, "endTime", required=True)
    records = [r for r in exchange.funding_history[name] if start <= r["T"] <= end]
    return paginate(request, [dict(r, id=r["T"]) for r in records], "id")


async def get_open_interests(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    name = market_or_404(exchange, request.match_info["market"]).name
    interval = request.query.get("interval")
    if interval not in ("P1H", "P1D"):
        raise ApiError(errors.NOT_SUPPORTED_INTERVAL, "Not supported interval", 400)
    start = int_query(request, "startTime", required=True)
    end = int_query(request, "endTime", required=True)
    records = [r for r in exchange.open_interest_history[name] if start <= r["t"] <= end]
    if interval == "P1D":
        by_day = {r["t"] - r["t"] % DAY_MS: r for r in records}
        records = [dict(r, t=day) for day, r in sorted(by_day.items())]
    limit = int_query(request, "limit") or 300
    return ok(sorted(records, key=lambda r: r["t"], reverse=True)[:min(limit, 300)])


def add_routes(app: web.Application) -> None:
    base = "/api/v1/info"
    app.router.add_get(f"{base}/markets", get_markets)
    app.router.add_get(f"{base}/markets/{{market}}/stats", get_market_stats)
    app.router.add_get(f"{base}/markets/{{market}}/orderbook", get_orderbook)
    app.router.add_get(f"{base}/markets/{{market}}/trades", get_trades)
    app.router.add_get(f"{base}/candles/{{market}}/{{candle_type}}", get_candles)
    app.router.add_get(f"{base}/{{market}}/funding", get_funding_history)
    app.router.add_get(f"{base}/{{market}}/open-interests", get_open_interests)
