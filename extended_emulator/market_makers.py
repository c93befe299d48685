"""Seeded resting liquidity: one internal account quotes a ladder around each mark price.

``step()`` moves each mark price by a seeded random walk and re-quotes; the
emulator calls it every ``mm_interval`` seconds (``None`` = only when asked).
Because quotes go through the matching engine, a moving ladder trades against
users' resting orders, so a strategy gets fills.
"""
from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from .accounts import FeeRates
from .markets import ACTIVE, REDUCE_ONLY, Market

if TYPE_CHECKING:
    from .exchange import Exchange

MM_BALANCE = Decimal("1000000000000")
LEVELS_PER_SIDE = 10
LEVEL_NOTIONAL_MIN, LEVEL_NOTIONAL_MAX = 2_000, 20_000
STEP_VOLATILITY = 0.0005


def _to_tick(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value(rounding=ROUND_DOWN) * tick


class MarketMakers:
    def __init__(self, exchange: "Exchange", seed: int):
        self.exchange = exchange
        self.rng = random.Random(seed)
        self.account = exchange.add_account(None, 0, 1, MM_BALANCE, FeeRates(Decimal(0), Decimal(0)),
                                            client_id=0, is_market_maker=True)
        self.account.leverage = {name: Decimal(50) for name in exchange.markets}

    def quotable(self, market: Market) -> bool:
        return market.status in (ACTIVE, REDUCE_ONLY)

    def quote_all(self) -> None:
        for market in self.exchange.markets.values():
            if self.quotable(market):
                self.requote(market.name)

    def requote(self, market_name: str) -> None:
        """Replace this market's ladder around the current mark price."""
        market = self.exchange.markets[market_name]
        book = self.exchange.books[market_name]
        for order in self.account.open_orders(market_name):
            book.remove(order)
            order.status = "CANCELLED"
        tick = market.trading.min_price_change
        spacing = max(tick, _to_tick(market.mark_price * Decimal("0.0002"), tick))
        mid = _to_tick(market.mark_price, tick)
        for level in range(1, LEVELS_PER_SIDE + 1):
            for side, sign in (("SELL", 1), ("BUY", -1)):
                price = mid + sign * spacing * level
                if price > 0:
                    self.exchange.place_internal(self.account, market_name, side, self._qty(market, price), price)
        self.exchange.publish_book(market_name)

    def _qty(self, market: Market, price: Decimal) -> Decimal:
        notional = Decimal(self.rng.randint(LEVEL_NOTIONAL_MIN, LEVEL_NOTIONAL_MAX))
        step = market.trading.min_order_size_change
        return max(market.trading.min_order_size, _to_tick(notional / price, step))

    def step(self) -> None:
        """Random-walk every quotable mark price one step, then re-quote."""
        for market in self.exchange.markets.values():
            if not self.quotable(market):
                continue
            tick = market.trading.min_price_change
            move = Decimal(str(round(self.rng.uniform(-STEP_VOLATILITY, STEP_VOLATILITY), 8)))
            mark = max(tick, _to_tick(market.mark_price * (1 + move), tick))
            self.exchange.set_mark_price(market.name, mark)
            self.exchange.set_index_price(market.name, _to_tick(mark * Decimal("1.0001"), tick))
            self.requote(market.name)
