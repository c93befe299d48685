"""The Emulator: aiohttp server wiring plus the in-process control API used by tests."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from decimal import Decimal
from typing import Deque, Dict, List, Optional

from aiohttp import web

from . import admin, errors, rest_private, rest_public, stream_routes
from .accounts import FeeRates
from .clock import Clock
from .errors import ApiError
from .exchange import Exchange
from .faults import Faults, HttpFault
from .ledger import ledger_of
from .market_makers import MarketMakers
from .markets import Market, with_trading_overrides
from .responses import EMULATOR_KEY, error_response
from .streams import StreamHub

log = logging.getLogger(__name__)
ADMIN_PREFIX = "/_emulator"
_FAULT_AFTER_PROCESSING = "emulator.fault_after_processing"  # request key: the answer is replaced


class RateLimiter:
    """Sliding one-minute window per client IP."""

    def __init__(self, per_minute: int, window_seconds: float = 60.0):
        self.per_minute, self.window = per_minute, window_seconds
        self._hits: Dict[str, Deque[float]] = {}

    def allow(self, ip: str) -> bool:
        now = time.monotonic()
        hits = self._hits.setdefault(ip, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(now)
        return True


class Emulator:
    def __init__(self, seed: int = 7, network: str = "mainnet", ping_interval: float = 15.0,
                 pong_timeout: float = 10.0, rate_limit_per_minute: int = 1000,
                 mm_interval: Optional[float] = 1.0, clock_start_ms: Optional[int] = None,
                 frozen_clock: bool = False, markets: Optional[Dict[str, Market]] = None,
                 funding_fee_paid_positive: bool = True, time_tick: float = 1.0,
                 rest_trades_external_order_id: bool = True):
        self.seed, self.network = seed, network
        # False: REST trades (GET /user/trades) leave out externalOrderId, which the doc says only the stream fills
        self.rest_trades_external_order_id = rest_trades_external_order_id
        self.mm_interval, self.time_tick = mm_interval, time_tick
        self._initial_markets = markets
        self._clock_args = (clock_start_ms, frozen_clock)
        self._funding_fee_paid_positive = funding_fee_paid_positive
        self.rate_limiter = RateLimiter(rate_limit_per_minute)
        self.hub = StreamHub(ping_interval, pong_timeout, self._candles_for_stream, self._now_ms)
        self.faults = Faults(lambda: self.hub)
        self._runner: Optional[web.AppRunner] = None
        self._tasks: List[asyncio.Task] = []
        self._pending_restart: Optional[asyncio.Task] = None
        self.host, self.port = "127.0.0.1", 0
        self._build_state()

    # ----- state ---------------------------------------------------------------------
    def _build_state(self) -> None:
        start_ms, frozen = self._clock_args
        markets = {n: _copy_market(m) for n, m in self._initial_markets.items()} if self._initial_markets else None
        self.exchange = Exchange(self.seed, self.network, Clock(start_ms, frozen), markets,
                                 self._funding_fee_paid_positive)
        self.exchange.sink = self.hub
        self.market_makers = MarketMakers(self.exchange, self.seed)
        self.market_makers.quote_all()

    @property
    def clock(self) -> Clock:
        return self.exchange.clock

    def _now_ms(self) -> int:
        return self.exchange.clock.now_ms()

    def _candles_for_stream(self, market: str, candle_type: str, interval_ms: int, limit: int):
        return self.exchange.candles.candles(market, candle_type, interval_ms, limit)

    # ----- lifecycle -----------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(middlewares=[self._middleware])
        app[EMULATOR_KEY] = self
        rest_public.add_routes(app)
        rest_private.add_routes(app)
        stream_routes.add_routes(app)
        admin.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)  # no access log: keys may sit in query strings
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = host, self._runner.addresses[0][1]
        loop = asyncio.get_running_loop()
        self.exchange.schedule = loop.call_soon
        self._tasks = [asyncio.create_task(self._clock_ticker())]
        if self.mm_interval:
            self._tasks.append(asyncio.create_task(self._market_maker_loop()))
        log.info("extended emulator listening on %s", self.base_url)
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/stream.extended.exchange/v1"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self, fresh: bool = False) -> str:
        """Stop and start on the same port; keep all state unless ``fresh``."""
        host, port = self.host, self.port
        await self.stop()
        if fresh:
            self._build_state()
        return await self.start(host, port)

    def schedule_restart(self, fresh: bool = False, delay: float = 0.05) -> None:
        """Restart shortly, from inside a request handler (the answer goes out first)."""
        async def later() -> None:
            await asyncio.sleep(delay)
            await self.restart(fresh)
        self._pending_restart = asyncio.create_task(later())

    async def _clock_ticker(self) -> None:
        previous = self.clock.now_ms()
        while True:
            await asyncio.sleep(self.time_tick)
            if not self.clock.frozen:
                previous = self.clock.tick(previous)

    async def _market_maker_loop(self) -> None:
        while True:
            await asyncio.sleep(self.mm_interval)
            self.market_makers.step()

    # ----- HTTP middleware -----------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        try:
            if not request.path.startswith(ADMIN_PREFIX):
                early = await self._gatekeep(request)
                if early is not None:
                    return early
            response = await handler(request)
            fault = request.get(_FAULT_AFTER_PROCESSING)
            return response if fault is None else await self._apply_http_fault(fault, response)
        except ApiError as err:
            return error_response(err)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error_response(ApiError(exc.status, exc.reason, exc.status))
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(ApiError(500, "Internal server error", 500))

    async def _gatekeep(self, request: web.Request) -> Optional[web.StreamResponse]:
        if not request.headers.get("User-Agent"):
            return error_response(ApiError(errors.BAD_REQUEST, "User-Agent header is required", 400))
        if not request.path.startswith("/api/"):
            return None
        if not self.rate_limiter.allow(request.remote or "?"):
            return error_response(ApiError(errors.RATE_LIMITED, "Rate limit exceeded", 429))
        fault = self.faults.take_http_fault(request.path)
        if fault is None:
            return None
        if fault.after_processing:
            request[_FAULT_AFTER_PROCESSING] = fault
            return None
        return await self._apply_http_fault(fault, None)

    @staticmethod
    async def _apply_http_fault(fault: HttpFault, response: Optional[web.StreamResponse]
                                ) -> Optional[web.StreamResponse]:
        """The fault's delay, then its error answer (or ``response``, the normal answer, when it has no status)."""
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            return error_response(ApiError(fault.status, "Injected fault", fault.status))
        return response

    # ----- in-process control API ----------------------------------------------------
    def add_account(self, api_key: str, stark_public_key: int, vault: int, balance: Decimal = Decimal("10000"),
                    fee_rates: Optional[FeeRates] = None, client_id: Optional[int] = None,
                    leverage: Optional[Dict[str, Decimal]] = None) -> int:
        account = self.exchange.add_account(api_key, int(stark_public_key), int(vault), Decimal(balance),
                                            fee_rates, client_id)
        for market, value in (leverage or {}).items():
            account.leverage[market] = Decimal(value)
        return account.account_id

    def set_mark_price(self, market: str, price: Decimal, requote: bool = True) -> None:
        self.exchange.set_mark_price(market, Decimal(price))
        if requote and self.market_makers.quotable(self.exchange.markets[market]):
            self.market_makers.requote(market)

    def set_index_price(self, market: str, price: Decimal) -> None:
        self.exchange.set_index_price(market, Decimal(price))

    def set_funding_rate(self, market: str, rate: Decimal) -> None:
        self.exchange.markets[market].funding_rate = Decimal(rate)

    def set_market_status(self, market: str, status: str) -> None:
        self.exchange.markets[market].status = status

    def update_trading_config(self, market: str, **overrides) -> None:
        """e.g. ``update_trading_config("BTC-USD", min_price_change=Decimal("0.0001"))``."""
        current = self.exchange.markets[market]
        updated = with_trading_overrides(current, **overrides)
        current.trading = updated.trading

    def run_funding(self) -> list:
        return self.exchange.run_funding()

    def step_market(self) -> None:
        self.market_makers.step()

    def ledger(self, api_key: str) -> dict:
        account = self.exchange.account_by_key(api_key)
        if account is None:
            raise KeyError("unknown API key")
        return ledger_of(self.exchange, account)


def _copy_market(market: Market) -> Market:
    return with_trading_overrides(market)
