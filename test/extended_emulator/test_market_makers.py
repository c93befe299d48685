"""Seeded market-maker liquidity: deterministic per seed, moves, and fills resting user orders."""
import asyncio
import unittest
from decimal import Decimal

from extended_emulator import Emulator

from .helpers import KEY_A, START_MS, EmulatorTestCase


def book_after_steps(seed: int, steps: int):
    emu = Emulator(seed=seed, mm_interval=None, clock_start_ms=START_MS, frozen_clock=True)
    for _ in range(steps):
        emu.step_market()
    return emu.exchange.book_levels("BTC-USD"), emu.exchange.markets["BTC-USD"].mark_price


class DeterminismTest(unittest.TestCase):
    def test_same_seed_same_book_other_seed_other_book(self):
        self.assertEqual(book_after_steps(7, 5), book_after_steps(7, 5))
        self.assertNotEqual(book_after_steps(7, 5), book_after_steps(8, 5))

    def test_every_active_market_has_a_two_sided_uncrossed_book(self):
        emu = Emulator(mm_interval=None)
        for name, market in emu.exchange.markets.items():
            bids, asks = emu.exchange.book_levels(name)
            if market.status == "DISABLED":
                self.assertEqual(({}, {}), (bids, asks))
                continue
            self.assertEqual((10, 10), (len(bids), len(asks)), name)
            self.assertLess(max(bids), min(asks), name)


class MovingBookTest(EmulatorTestCase):
    async def test_market_move_fills_a_resting_user_order(self):
        stream = await self.account_stream()
        await stream.drain()
        await self.place(self.order("BUY", "0.001", "96900.0"))
        await self.settle()
        self.emu.set_mark_price("BTC-USD", Decimal("96800.0"))  # the ladder moves down through the bid
        trade = (await stream.next_of("TRADE"))["data"]["trades"][0]
        self.assertEqual(("96900.0", False), (trade["price"], trade["isTaker"]))
        self.assertEqual("FILLED", self.emu.ledger(KEY_A)["orders"][0]["status"])

    async def test_background_loop_moves_the_mark(self):
        emu = Emulator(seed=3, mm_interval=0.02, clock_start_ms=START_MS, frozen_clock=True)
        await emu.start("127.0.0.1", 0)
        try:
            first = emu.exchange.markets["ETH-USD"].mark_price
            for _ in range(50):
                await asyncio.sleep(0.02)
                if emu.exchange.markets["ETH-USD"].mark_price != first:
                    break
            self.assertNotEqual(first, emu.exchange.markets["ETH-USD"].mark_price)
        finally:
            await emu.stop()
