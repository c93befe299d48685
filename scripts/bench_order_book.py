"""Cost per order-book update: Extended's data source vs Hummingbot's binance_perpetual, on equivalent streams.

Each update is one JSON text from the socket. Per update, both sides run: ``json.loads`` once, the data source's
``_parse_order_book_diff_message`` (Extended: additive delta -> absolute levels through its local book, the rows
built once as ``OrderBookRow``s; Binance: absolute levels, ``pu`` chain check, async symbol lookup), and
``OrderBook.apply_diffs`` with the message's ``bids`` / ``asks`` (what the tracker's ``_track_single_book`` does;
Hummingbot's ``OrderBookMessage`` rebuilds its rows on every such read, Extended's ``BookDiffMessage`` hands
them out). Both streams touch the same prices with the same resulting sizes.
Socket-side routing (Extended's seq check, Binance's channel lookup) is left out of both.

Usage: ``python scripts/bench_order_book.py [--updates N] [--levels K] [--seed S]``
"""
import argparse
import asyncio
import gc
import json
import logging
import random
import statistics
import time
from decimal import Decimal
from typing import Dict, List, Tuple

from bidict import bidict

from hummingbot.connector.derivative.binance_perpetual.binance_perpetual_api_order_book_data_source import (
    BinancePerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.binance_perpetual.binance_perpetual_derivative import BinancePerpetualDerivative
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_web_utils as web_utils
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.core.data_type.order_book import OrderBook

_logger = logging.getLogger("bench_order_book")
TRADING_PAIR = "BTC-USD"
BINANCE_SYMBOL = "BTCUSD"


def binance_connector() -> BinancePerpetualDerivative:
    """Hummingbot's real Binance connector, its symbol map set (its diff parser awaits a lookup per message)."""
    connector = BinancePerpetualDerivative(binance_perpetual_api_key="", binance_perpetual_api_secret="",
                                           trading_pairs=[TRADING_PAIR], trading_required=False)
    connector._set_trading_pair_symbol_map(bidict({BINANCE_SYMBOL: TRADING_PAIR}))
    return connector


class ExtendedSymbols:
    """Extended's data source needs no lookup per message (each socket is one market); only at connect time."""

    async def exchange_symbol_associated_to_pair(self, trading_pair: str) -> str:
        return trading_pair


def touched_levels(rng: random.Random, book: Dict[str, Decimal], mid: int, levels: int, sign: int):
    """(price, old size, new size) for ``levels`` prices on one side; some levels are emptied."""
    result = []
    for price in {str(mid + sign * rng.randint(1, 60) / 10) for _ in range(levels)}:
        old = book.get(price, Decimal(0))
        new = Decimal(0) if old and rng.random() < 0.3 else Decimal(rng.randint(1, 5000)) / 1000
        book[price] = new
        result.append((price, old, new))
    return result


def equivalent_streams(updates: int, levels: int, seed: int) -> Tuple[List[str], List[str], List[str]]:
    """Extended snapshot + delta texts and Binance diff texts describing the same book changes."""
    rng, bids, asks = random.Random(seed), {}, {}
    extended, binance = [], []
    for seq in range(1, updates + 1):
        bid_changes = touched_levels(rng, bids, 60000, levels, -1)
        ask_changes = touched_levels(rng, asks, 60000, levels, +1)
        extended.append(json.dumps({"ts": 1701563440000 + seq, "type": "DELTA", "seq": seq + 1, "data": {
            "m": TRADING_PAIR,
            "b": [{"p": p, "q": str(new - old)} for p, old, new in bid_changes],
            "a": [{"p": p, "q": str(new - old)} for p, old, new in ask_changes]}}))
        binance.append(json.dumps({"stream": "btcusd@depth", "data": {
            "e": "depthUpdate", "E": 1701563440000 + seq, "T": 1701563440000 + seq, "s": BINANCE_SYMBOL,
            "U": seq, "u": seq, "pu": seq - 1,
            "b": [[p, str(new)] for p, _, new in bid_changes], "a": [[p, str(new)] for p, _, new in ask_changes]}}))
    snapshot = json.dumps({"ts": 1701563440000, "type": "SNAPSHOT", "seq": 1, "data": {"m": TRADING_PAIR,
                                                                                       "b": [], "a": []}})
    return [snapshot], extended, binance


async def run_path(parse, texts: List[str], wrap) -> Tuple[float, OrderBook]:
    """Seconds spent on json + parse + apply for ``texts``; the resulting book."""
    order_book, queue = OrderBook(), asyncio.Queue()
    loads, get, apply_diffs = json.loads, queue.get_nowait, order_book.apply_diffs
    gc.collect()
    gc.disable()  # as timeit does: collector pauses would land on whichever path happens to trigger them
    try:
        start = time.perf_counter()
        for text in texts:
            await parse(wrap(loads(text)), queue)
            message = get()
            apply_diffs(message.bids, message.asks, message.update_id)
        return time.perf_counter() - start, order_book
    finally:
        gc.enable()


async def bench(updates: int, levels: int, seed: int, rounds: int):
    snapshot, extended_texts, binance_texts = equivalent_streams(updates, levels, seed)
    factory, binance_exchange = web_utils.build_api_factory(), binance_connector()
    seconds: Dict[str, List[float]] = {"extended": [], "binance": []}
    ratios = []
    for round_number in range(rounds):
        extended = ExtendedPerpetualAPIOrderBookDataSource([TRADING_PAIR], ExtendedSymbols(), factory)
        binance = BinancePerpetualAPIOrderBookDataSource([TRADING_PAIR], binance_exchange, factory)
        binance._last_update_id[TRADING_PAIR] = 0

        def with_pair(payload):
            return TRADING_PAIR, payload
        await run_path(extended._parse_order_book_diff_message, snapshot, with_pair)

        async def run_extended():
            return await run_path(extended._parse_order_book_diff_message, extended_texts, with_pair)

        async def run_binance():
            return await run_path(binance._parse_order_book_diff_message, binance_texts, lambda payload: payload)
        if round_number % 2:  # alternate which path runs first: neither always gets the warmer (or noisier) slot
            binance_seconds, binance_book = await run_binance()
            extended_seconds, extended_book = await run_extended()
        else:
            extended_seconds, extended_book = await run_extended()
            binance_seconds, binance_book = await run_binance()
        seconds["extended"].append(extended_seconds)
        seconds["binance"].append(binance_seconds)
        ratios.append(extended_seconds / binance_seconds)
    check_same_books(extended_book, binance_book)
    report(seconds, ratios, updates, levels)


def check_same_books(extended_book: OrderBook, binance_book: OrderBook):
    def levels(book):
        return [(row.price, row.amount) for row in book.bid_entries()], [
            (row.price, row.amount) for row in book.ask_entries()]
    if levels(extended_book) != levels(binance_book):
        raise AssertionError("the two streams did not produce the same book")


def report(seconds: Dict[str, List[float]], ratios: List[float], updates: int, levels: int):
    best = {path: min(values) / updates * 1e6 for path, values in seconds.items()}
    median = {path: statistics.median(values) / updates * 1e6 for path, values in seconds.items()}
    _logger.info(f"{updates} updates, up to {levels} levels per side each, {len(ratios)} rounds (best / median)")
    _logger.info(f"extended_perpetual: {best['extended']:8.2f} / {median['extended']:8.2f} us/update")
    _logger.info(f"binance_perpetual:  {best['binance']:8.2f} / {median['binance']:8.2f} us/update")
    _logger.info(f"median of the rounds' ratios: {statistics.median(ratios):.2f}x")
    _logger.info(f"ratio extended/binance: {best['extended'] / best['binance']:.2f}x (goal <= 1.00x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20000)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(bench(arguments.updates, arguments.levels, arguments.seed, arguments.rounds))


if __name__ == "__main__":
    main()
