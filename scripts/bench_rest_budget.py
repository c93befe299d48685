"""REST budget benchmark: requests per minute ExtendedPerpetualDerivative sends in steady state.

The real connector runs against the in-process Extended emulator (loopback only, throw-away Stark keys) for
1, 5 and 20 trading pairs, with 0 and 50 resting orders (placed ~3 % away from the mark so they never fill).
Every REST request any Hummingbot component sends is counted (``RESTConnection.call`` is wrapped; websocket
handshakes are not REST and are not counted), by method and path template.

Time is accelerated so that several poll cycles fit in a few real seconds (``SimTime``): once the start-up and
the order placement are over, ``time.time``, ``time.perf_counter`` and ``asyncio.sleep`` run ``--speed`` times
faster for the whole process -- the connector's pollers, Hummingbot's network check and order book tracker loops,
the emulator's heartbeat (ping every 15 s, like the live exchange) -- while ``loop.time`` (I/O timeouts) stays real,
so timeouts are more lenient than live, never stricter. The connector is driven by a Hummingbot ``Clock`` in
BACKTEST mode ticked every simulated second up to the accelerated ``time.time`` (the clock also starts the network,
as in Hummingbot), so the status poll, the funding poll and the stream-health check (``_get_poll_interval``) see one
consistent simulated time. Rates are per SIMULATED minute = the per-real-minute equivalent on a live bot. Loops
longer than the window (trading rules 30 min, fees/leverage and funding hourly) are added as computed rates
('+long'). Requests the pool never sends (aiohttp pool exhausted by websockets) are detected and the row is
reported STALLED; ``--no-pool-limit`` lifts Hummingbot's 100-connection pool to measure past that.

    python scripts/bench_rest_budget.py [--speed 60] [--sim-minutes 10] [--pairs 1 5 20] [--orders 0 50]
        [--no-pool-limit]
        [--trace /info/markets]   # + the connector call chain of each traced request
"""
import argparse
import asyncio
import logging
import os
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


# ----------------------------------------------------------------------------------------------- accelerated time
class SimTime:
    """Piecewise-linear accelerated clocks: ``now = base + (monotonic - mono_base) * speed``.

    ``time.time`` and ``time.perf_counter`` follow it and ``asyncio.sleep`` is divided by ``speed``, for the whole
    process (connector, Hummingbot's trackers and network check, emulator heartbeats and market makers). The event
    loop's own clock (``loop.time``: I/O timeouts, ``asyncio.wait_for``) stays real: timeouts are then more lenient
    than live, never stricter."""

    def __init__(self):
        self.real_time, self.real_perf_counter, self.real_sleep = time.time, time.perf_counter, asyncio.sleep
        self._mono_base = time.monotonic()
        self._time_base, self._perf_base = self.real_time(), self.real_perf_counter()
        self.speed = 1.0

    def _elapsed(self) -> float:
        return (time.monotonic() - self._mono_base) * self.speed

    def time(self) -> float:
        return self._time_base + self._elapsed()

    def perf_counter(self) -> float:
        return self._perf_base + self._elapsed()

    async def sleep(self, delay: float, result=None):
        """Sleeps in real slices of at most 0.25 s, so a speed change also shortens the sleeps under way."""
        if delay <= 0:
            return await self.real_sleep(0, result)
        deadline = self.time() + delay
        while True:
            remaining = deadline - self.time()
            if remaining <= 0:
                return result
            await self.real_sleep(min(remaining / self.speed, 0.25))

    def set_speed(self, speed: float):
        self._time_base, self._perf_base = self.time(), self.perf_counter()
        self._mono_base, self.speed = time.monotonic(), float(speed)

    def install(self):
        """Before anything imports ``from time import time`` or ``from asyncio import sleep``."""
        time.time, time.perf_counter = self.time, self.perf_counter
        asyncio.sleep = asyncio.tasks.sleep = self.sleep


SIM = SimTime()
SIM.install()


from scripts.throwaway_account import ThrowAwayAccount  # noqa: E402
from extended_emulator import Emulator  # noqa: E402
from extended_emulator.markets import L2Config, Market, TradingConfig, default_markets, synthetic_asset_id  # noqa: E402
from hummingbot.client.config.client_config_map import ClientConfigMap  # noqa: E402,F401  (import order)
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS  # noqa: E402
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (  # noqa: E402
    ExtendedPerpetualDerivative,
)
from hummingbot.core.clock import Clock, ClockMode  # noqa: E402
from hummingbot.core.data_type.common import OrderType, PositionAction  # noqa: E402
from hummingbot.core.web_assistant.connections.rest_connection import RESTConnection  # noqa: E402

GOAL_PER_MINUTE = 6.0
ORDER_DISTANCE = Decimal("0.03")  # resting buys 3 % under the mark (inside the 5 % limit-price floor)


# ----------------------------------------------------------------------------------------------- request counting
_TEMPLATES: List[Tuple[re.Pattern, str]] = [
    (re.compile(r"^/info/markets/[^/]+/(stats|orderbook|trades)$"), r"/info/markets/{m}/\1"),
    (re.compile(r"^/info/candles/[^/]+/([^/]+)$"), r"/info/candles/{m}/\1"),
    (re.compile(r"^/info/(?!markets$)[^/]+/(funding|open-interests)$"), r"/info/{m}/\1"),
    (re.compile(r"^/user/orders/external/[^/]+$"), "/user/orders/external/{externalId}"),
    (re.compile(r"^/user/orders/(?!history$)[^/]+$"), "/user/orders/{id}"),
    (re.compile(r"^/user/order/(?!massCancel$)[^/]+$"), "/user/order/{id}"),
]


def path_template(url: str) -> str:
    path = re.sub(r"^[a-z]+://[^/]+", "", str(url)).split("?")[0]
    path = re.sub(r"^/api/v1", "", path)
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            return pattern.sub(template, path)
    return path


def caller_chain() -> str:
    """The connector-side functions (coroutine chain) that led to a request, outermost first."""
    names = [f"{Path(frame.filename).stem}.{frame.name}" for frame in traceback.extract_stack()
             if "extended_perpetual" in frame.filename or "exchange_py_base" in frame.filename
             or "perpetual_derivative_py_base" in frame.filename or "order_book_tracker" in frame.filename]
    return " > ".join(names[-6:])


class RequestCounter:
    """Wraps Hummingbot's ``RESTConnection.call``: every REST request of every component goes through it."""

    def __init__(self, trace: Optional[List[str]] = None):
        self.counts: Counter = Counter()
        self.callers: Counter = Counter()  # (endpoint, call chain) of the traced endpoints
        self.trace = trace or []
        self.in_flight: Dict[object, Tuple[str, float]] = {}
        self._original = RESTConnection.call
        counter = self

        async def counting_call(connection, request, *args, **kwargs):
            method = getattr(request.method, "value", request.method)
            endpoint = f"{method} {path_template(request.url)}"
            counter.counts[endpoint] += 1
            if any(t in endpoint for t in counter.trace):
                counter.callers[(endpoint, caller_chain())] += 1
            key = object()
            counter.in_flight[key] = (endpoint, SIM.real_time())
            try:
                return await counter._original(connection, request, *args, **kwargs)
            finally:
                counter.in_flight.pop(key, None)

        RESTConnection.call = counting_call

    def stalled(self, seconds: float = 8.0) -> List[str]:
        """Requests handed to aiohttp more than ``seconds`` (real) ago and still unanswered (loopback: ~ms)."""
        now = SIM.real_time()
        return sorted(endpoint for endpoint, started in self.in_flight.values() if now - started > seconds)

    def take(self) -> Counter:
        counts, self.counts = self.counts, Counter()
        self.last_callers, self.callers = self.callers, Counter()
        return counts


class WarningLog(logging.Handler):
    """Warnings and errors of Hummingbot / the connector (stream reconnects, failed polls), per phase."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: Counter = Counter()

    def emit(self, record: logging.LogRecord):
        text = record.getMessage()
        if "BASE_URL is set" not in text and "destroyed but it is pending" not in text:
            self.messages[re.sub(r"\d+(\.\d+)?", "#", text)[:110]] += 1

    def stalled(self, seconds: float = 8.0) -> List[str]:
        """Requests handed to aiohttp more than ``seconds`` (real) ago and still unanswered (loopback: ~ms)."""
        now = SIM.real_time()
        return sorted(endpoint for endpoint, started in self.in_flight.values() if now - started > seconds)

    def take(self) -> Counter:
        messages, self.messages = self.messages, Counter()
        return messages


WARNINGS = WarningLog()


# ----------------------------------------------------------------------------------------------- markets / account
def benchmark_markets(count: int) -> Dict[str, Market]:
    """The emulator's default markets plus synthetic ACTIVE ones, so that ``count`` markets are tradable."""
    markets = dict(default_markets())
    tradable = [m for m in markets.values() if m.status == "ACTIVE"]
    index = 0
    while len(tradable) < count:
        index += 1
        asset = f"BM{index:02d}"
        price = Decimal(10 + 7 * index)
        market = Market(asset + "-USD", 2, TradingConfig(Decimal("0.1"), Decimal("0.01"), Decimal("0.001")),
                        L2Config(synthetic_asset_id(asset, 2), 100), price, price)
        markets[market.name] = market
        tradable.append(market)
    return markets


# ----------------------------------------------------------------------------------------------- one configuration
@dataclass
class Result:
    pairs: int
    orders: int
    startup: Counter = field(default_factory=Counter)
    placement: Counter = field(default_factory=Counter)
    steady: Counter = field(default_factory=Counter)
    sim_minutes: float = 0.0
    real_seconds: float = 0.0
    open_orders_after: int = 0
    open_orders_before: int = 0
    stream_healthy: bool = True
    account_connections: int = 0
    callers: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    stalled: List[str] = field(default_factory=list)
    startup_warnings: Counter = field(default_factory=Counter)
    speed: float = 1.0
    poll_intervals: Counter = field(default_factory=Counter)
    error: Optional[str] = None

    @property
    def per_minute(self) -> float:
        return sum(self.steady.values()) / self.sim_minutes if self.sim_minutes else float("nan")


class Ticker:
    """A BACKTEST Hummingbot clock following the (accelerated) ``time.time``, one tick per simulated second."""

    def __init__(self, connector: ExtendedPerpetualDerivative, result: Result):
        start = float(int(time.time()))
        self.clock = Clock(ClockMode.BACKTEST, tick_size=1.0, start_time=start, end_time=start + 10 ** 8)
        self.clock.add_iterator(connector)
        self.connector, self.result = connector, result
        self.watch_intervals = False
        self._task = asyncio.ensure_future(self._run())

    async def _run(self):
        with self.clock:
            while True:
                target = float(int(time.time()))
                while self.clock.current_timestamp < target:
                    step = min(target, self.clock.current_timestamp + 1.0)
                    self.clock.backtest_til(step)
                    if self.watch_intervals:
                        self.result.poll_intervals[self.connector._get_poll_interval(step)] += 1
                await SIM.real_sleep(0.005)

    async def stop(self):
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class RestStalled(RuntimeError):
    pass


async def wait_for(condition, timeout: float, what: str, counter: "RequestCounter"):
    deadline = time.monotonic() + timeout
    while not condition():
        stalled = counter.stalled()
        if stalled:
            raise RestStalled(f"{len(stalled)} REST request(s) unanswered for > 8 s while waiting for {what}: "
                              f"{dict(Counter(stalled))}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await SIM.real_sleep(0.05)


async def run_config(pairs: int, orders: int, speed: float, sim_minutes: float, counter: RequestCounter,
                     seed: int) -> Result:
    result = Result(pairs, orders)
    result.speed = speed
    SIM.set_speed(1.0)
    markets = benchmark_markets(pairs)
    trading_pairs = [m.name for m in markets.values() if m.status == "ACTIVE"][:pairs]
    # Heartbeat as live (ping every 15 s, 10 s for the pong: simulated seconds in the steady state); the market
    # makers re-quote every simulated minute (the book streams carry updates without starving two cores).
    emulator = Emulator(seed=seed, network="mainnet", ping_interval=15.0, pong_timeout=10.0, mm_interval=60.0,
                        time_tick=10.0,
                        markets=markets, rate_limit_per_minute=1000)
    base_url = await emulator.start(host="127.0.0.1", port=0)
    account = ThrowAwayAccount.generate()
    emulator.add_account(api_key=account.api_key, stark_public_key=account.public_key, vault=account.vault,
                         balance=Decimal("10000000"))
    os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = base_url
    connector = ExtendedPerpetualDerivative(**account.connector_keys(), trading_pairs=trading_pairs,
                                            trading_required=True)
    counter.take()
    ticker: Optional[Ticker] = None
    try:
        # ---- start-up: real speed, until the connector is ready
        # The clock starts the network (NetworkIterator: check_network, then start_network), as in Hummingbot;
        # calling start_network() as well would start everything twice (two account-stream connections).
        ticker = Ticker(connector, result)
        await wait_for(lambda: connector.ready, 60.0, "the connector to be ready", counter)
        await asyncio.sleep(1.0)  # the first status poll and the funding-payment initialisation land
        result.startup = counter.take()
        result.startup_warnings = WARNINGS.take()

        # ---- resting orders, round-robin over the pairs, far from the mark
        order_ids = []
        for i in range(orders):
            pair = trading_pairs[i % len(trading_pairs)]
            rule = connector.trading_rules[pair]
            mark = emulator.exchange.markets[pair].mark_price
            price = (mark * (1 - ORDER_DISTANCE) / rule.min_price_increment).to_integral_value(ROUND_DOWN) \
                * rule.min_price_increment
            amount = max(rule.min_order_size, rule.min_base_amount_increment)
            order_ids.append(connector.buy(pair, amount, OrderType.LIMIT, price, position_action=PositionAction.OPEN))

        def settled(oid: str) -> bool:
            order = connector._order_tracker.all_orders.get(oid)  # tracked once its creation task has run
            return order is not None and (order.is_done or (order.is_open and order.exchange_order_id is not None))
        if orders:
            await wait_for(lambda: all(settled(oid) for oid in order_ids), 60.0, "the resting orders to be open",
                           counter)
        result.open_orders_before = sum(1 for o in connector.in_flight_orders.values() if o.is_open)
        await asyncio.sleep(1.0)
        result.placement = counter.take()
        WARNINGS.take()

        # ---- steady state: accelerated
        SIM.set_speed(speed)
        ticker.watch_intervals = True
        sim_start, real_start = time.time(), time.monotonic()
        await SIM.real_sleep(sim_minutes * 60.0 / speed)
        result.stalled = counter.stalled()
        result.steady = counter.take()
        result.warnings = WARNINGS.take()
        result.callers = counter.last_callers
        result.sim_minutes = (time.time() - sim_start) / 60.0
        result.real_seconds = time.monotonic() - real_start
        ticker.watch_intervals = False
        result.open_orders_after = sum(1 for o in connector.in_flight_orders.values() if o.is_open)
        result.stream_healthy = time.time() - connector._user_stream_tracker.last_recv_time < 60.0
        result.account_connections = getattr(connector._user_stream_tracker.data_source, "_connections", 0)
    except Exception as error:  # report, keep benchmarking the other rows
        result.error = f"{type(error).__name__}: {error}"
    finally:
        SIM.set_speed(1.0)
        if ticker is not None:
            await ticker.stop()
        try:
            await asyncio.wait_for(connector.stop_network(), 15.0)
        except Exception as error:  # noqa: BLE001 -- a stalled connector may not stop cleanly
            result.error = result.error or f"stop_network: {type(error).__name__}"
        await emulator.stop()
    return result


# ----------------------------------------------------------------------------------------------- report
def long_period_rates() -> List[Tuple[str, float, float]]:
    """Loops whose period exceeds the window: (what, requests per period, period in minutes)."""
    cls = ExtendedPerpetualDerivative
    return [
        ("trading rules  GET /info/markets", 1, cls.TRADING_RULES_INTERVAL / 60),
        ("fees+leverage  GET /user/fees, GET /user/leverage", 2, cls.TRADING_FEES_INTERVAL / 60),
        ("funding poll   GET /user/funding/history", 1, CONSTANTS.FUNDING_INTERVAL_SECONDS / 60),
    ]


def print_report(results: List[Result], speed: float):
    extra = sum(n / period for _, n, period in long_period_rates())
    print(f"\n=== Extended perpetual: REST budget in steady state (rates per simulated = live minute; "
          f"goal <= {GOAL_PER_MINUTE:g}/min) ===")
    header = (f"{'pairs':>5} {'orders':>6} {'speed':>5} | {'start-up':>8} {'placing':>7} | {'window':>9} "
              f"{'requests':>8} {'req/min':>7} {'+long':>6} {'total':>6} | {'poll 5s/120s ticks':>18} | goal")
    print(header)
    print("-" * len(header))
    for r in results:
        if r.error:
            print(f"{r.pairs:>5} {r.orders:>6} | {'STALLED' if r.error.startswith('RestStalled') else 'ERROR'} "
                  f"{r.error}  -> goal NOT MET")
            continue
        total = r.per_minute + extra
        ticks = f"{r.poll_intervals.get(5.0, 0)}/{r.poll_intervals.get(120.0, 0)}"
        print(f"{r.pairs:>5} {r.orders:>6} {r.speed:>4g}x | {sum(r.startup.values()):>8} "
              f"{sum(r.placement.values()):>7} | {r.sim_minutes:>6.1f}min {sum(r.steady.values()):>8} "
              f"{r.per_minute:>7.2f} {extra:>6.2f} {total:>6.2f} | {ticks:>18} | "
              f"{'STALLED ' + str(len(r.stalled)) if r.stalled else 'ok' if total <= GOAL_PER_MINUTE else 'OVER'}"
              + ("" if r.stream_healthy else "  (account stream silent!)")
              + (f"  ({r.account_connections - 1} account-stream reconnects)" if r.account_connections > 1 else "")
              + (f"  (open orders: {r.open_orders_before} placed, {r.open_orders_after} at the end)"
                 if min(r.open_orders_after, r.open_orders_before) < r.orders else ""))
    print("\n'+long' (computed, not measured in the window): "
          + "; ".join(f"{what} {n:g} per {period:g} min" for what, n, period in long_period_rates()))
    measured = [r for r in results if not r.error]
    if not measured:
        return
    worst = max(measured, key=lambda r: r.per_minute)
    print(f"\nSteady-state breakdown of the worst row ({worst.pairs} pairs, {worst.orders} orders, "
          f"{worst.sim_minutes:.1f} simulated min):")
    for endpoint, n in worst.steady.most_common():
        print(f"  {n:>6}  {n / worst.sim_minutes:>7.2f}/min  {endpoint}")
    print("\nStart-up requests per configuration (connector start until ready + first poll), by endpoint:")
    for r in measured:
        parts = ", ".join(f"{endpoint} x{n}" for endpoint, n in sorted(r.startup.items()))
        print(f"  {r.pairs:>2} pairs / {r.orders:>2} orders: {sum(r.startup.values()):>3}  [{parts}]")
    print("\nOrder placement (not steady state): "
          + "; ".join(f"{r.pairs}p/{r.orders}o: {dict(r.placement)}" for r in measured if r.orders))
    for r in results:
        for text, n in r.startup_warnings.most_common(3):
            print(f"  start-up warning {r.pairs}p/{r.orders}o x{n}: {text}")
        for text, n in r.warnings.most_common(5):
            print(f"  steady-state warning {r.pairs}p/{r.orders}o x{n}: {text}")
        for (endpoint, chain), n in r.callers.most_common():
            print(f"  traced {r.pairs}p/{r.orders}o {endpoint} x{n}: {chain}")
    holds = len(measured) == len(results) and all(
        r.per_minute + extra <= GOAL_PER_MINUTE and not r.stalled for r in measured)
    top = max(r.per_minute for r in measured)
    flat = top - min(r.per_minute for r in measured)
    print(f"\nGoal <= {GOAL_PER_MINUTE:g}/min: {'HOLDS' if holds else 'NOT MET'}; spread across rows "
          f"{flat:.2f}/min ({'flat' if flat <= max(1.0, 0.15 * top) else 'NOT flat'} in pairs and orders: "
          f"within max(1/min, 15 %); loops timed by sleeps vary by a few requests)")


async def main_async(args) -> int:
    counter = RequestCounter(args.trace)
    if args.no_pool_limit:
        import aiohttp
        from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
        # Hummingbot's shared aiohttp session has the default pool of 100 connections, which websockets hold for
        # their lifetime; unlimited, to measure the REST budget past that limit.
        ConnectionsFactory()._shared_client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    results = []
    for pairs in args.pairs:
        for orders in args.orders:
            started = time.monotonic()
            # Above 5 pairs (100+ sockets, emulator in the same process, two cores) a high speed lags the event
            # loop: the account stream then looks silent and the loops run late. Slower, shorter window there.
            many = pairs > 5
            speed = args.many_pairs_speed if many else args.speed
            window = min(args.sim_minutes, args.many_pairs_sim_minutes) if many else args.sim_minutes
            result = await run_config(pairs, orders, speed, window, counter, args.seed)
            print(f"  measured {pairs:>2} pairs / {orders:>2} orders in {time.monotonic() - started:.1f} s real"
                  + (f" -- {result.error}" if result.error else ""), flush=True)
            results.append(result)
    print_report(results, args.speed)
    return 0 if all(not r.error for r in results) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=60.0,
                        help="simulated seconds per real second (rows of up to 5 pairs)")
    parser.add_argument("--many-pairs-speed", type=float, default=5.0, help="the speed of rows above 5 pairs")
    parser.add_argument("--many-pairs-sim-minutes", type=float, default=4.0,
                        help="the window of rows above 5 pairs (simulated minutes; two status polls)")
    parser.add_argument("--sim-minutes", type=float, default=10.0, help="steady-state window, simulated minutes")
    parser.add_argument("--pairs", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--orders", type=int, nargs="+", default=[0, 50])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-pool-limit", action="store_true",
                        help="give Hummingbot's shared aiohttp session an unlimited connection pool (default: "
                             "Hummingbot's own, 100 connections shared by REST and every websocket)")
    parser.add_argument("--trace", nargs="*", default=[], metavar="ENDPOINT",
                        help="print the connector call chains of the steady-state requests whose endpoint contains "
                             "one of these strings (e.g. --trace /info/markets)")
    parser.add_argument("--log-level", default="ERROR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(WARNINGS)
    logging.getLogger().setLevel(min(logging.WARNING, logging.getLogger().level))
    for handler in logging.getLogger().handlers:
        if handler is not WARNINGS:
            handler.setLevel(getattr(logging, args.log_level.upper()))
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
