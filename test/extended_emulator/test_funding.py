"""Hourly funding on an accelerated clock: payments, balance, REST history, stream."""
from decimal import Decimal

from extended_emulator import Emulator

from .helpers import HOUR_MS, KEY_A, KEY_B, START_MS, EmulatorTestCase


class FundingTest(EmulatorTestCase):
    async def open_long_for_a(self):
        await self.place(self.order("BUY", "0.01", "97000.0"))
        await self.place(self.order("SELL", "0.01", "97000.0", 1), KEY_B)
        await self.settle()

    async def test_hour_boundary_pays_funding_long_pays_short_receives(self):
        await self.open_long_for_a()
        self.emu.set_funding_rate("BTC-USD", Decimal("0.001"))
        self.emu.set_mark_price("BTC-USD", Decimal("100000.0"))
        stream = await self.account_stream()
        await stream.drain()
        before_a = Decimal(self.emu.ledger(KEY_A)["balance"]["balance"])
        before_b = Decimal(self.emu.ledger(KEY_B)["balance"]["balance"])
        self.emu.clock.advance(HOUR_MS / 1000)  # START_MS is mid-hour: exactly one boundary is crossed
        balance = (await stream.next_of("BALANCE"))["data"]["balance"]
        self.assertEqual(before_a - 1, Decimal(balance["balance"]))  # 0.01 * 100000 * 0.001
        self.assertEqual(before_b + 1, Decimal(self.emu.ledger(KEY_B)["balance"]["balance"]))
        payments = self.emu.ledger(KEY_A)["fundingPayments"]
        self.assertEqual(1, len(payments))
        payment = payments[0]
        self.assertEqual(("LONG", "1.000000", "0.001", "100000.0"),
                         (payment["side"], payment["fundingFee"], payment["fundingRate"], payment["markPrice"]))
        self.assertEqual(0, payment["paidTime"] % HOUR_MS)
        status, body = await self.rest("GET", "/api/v1/user/funding/history", KEY_A, params={"fromTime": "0"})
        self.assertEqual((200, payments), (status, body["data"]))
        status, body = await self.rest("GET", "/api/v1/user/funding/history", KEY_A)
        self.assertEqual(400, status)  # fromTime is required
        _, rates = await self.rest("GET", "/api/v1/info/BTC-USD/funding",
                                   params={"startTime": str(START_MS), "endTime": str(START_MS + HOUR_MS)})
        self.assertEqual([{"m": "BTC-USD", "T": payment["paidTime"], "f": "0.001", "id": payment["paidTime"]}],
                         rates["data"])

    async def test_six_hours_at_once_gives_six_payments_and_manual_run(self):
        await self.open_long_for_a()
        self.emu.clock.advance(6 * HOUR_MS / 1000)
        self.assertEqual(6, len(self.emu.ledger(KEY_A)["fundingPayments"]))
        self.emu.run_funding()
        self.assertEqual(7, len(self.emu.ledger(KEY_A)["fundingPayments"]))
        _, oi = await self.rest("GET", "/api/v1/info/BTC-USD/open-interests",
                                params={"interval": "P1H", "startTime": "0", "endTime": str(START_MS + 7 * HOUR_MS)})
        self.assertEqual("0.01", oi["data"][0]["I"])


class FundingSignSettingTest(EmulatorTestCase):
    emulator_kwargs = {"funding_fee_paid_positive": False}

    async def test_sign_convention_is_a_setting(self):
        await self.place(self.order("BUY", "0.01", "97000.0"))
        await self.place(self.order("SELL", "0.01", "97000.0", 1), KEY_B)
        await self.settle()
        self.emu.run_funding()
        fee = Decimal(self.emu.ledger(KEY_A)["fundingPayments"][0]["fundingFee"])
        self.assertLess(fee, 0)  # long paid with a positive rate: reported negative under this setting
        self.assertIsInstance(self.emu, Emulator)


class LedgerConsistencyTest(EmulatorTestCase):
    async def test_balance_equals_deposit_plus_realised_minus_fees_minus_funding(self):
        self.emu.set_funding_rate("BTC-USD", Decimal("0.000137"))
        for side, other, price in (("BUY", "SELL", "97000.0"), ("SELL", "BUY", "97010.0"),
                                   ("SELL", "BUY", "97005.0"), ("BUY", "SELL", "97001.0")):
            await self.place(self.order(side, "0.00337", price))
            await self.place(self.order(other, "0.00337", price, 1), KEY_B)
            await self.settle()
            self.emu.clock.advance(HOUR_MS / 1000)
        _, best_ask = self.best()
        await self.place(self.order("BUY", "0.01234", str(best_ask + 50), time_in_force="IOC"))
        await self.settle()
        self.emu.run_funding()
        ledger = self.emu.ledger(KEY_A)
        fees = sum(Decimal(t["fee"]) for t in ledger["trades"])
        funding = sum(Decimal(p["fundingFee"]) for p in ledger["fundingPayments"])
        realised = sum(Decimal(p["realisedPnl"]) for p in ledger["positions"] + ledger["closedPositions"])
        self.assertGreater(len(ledger["fundingPayments"]), 1)
        self.assertEqual(Decimal("100000") + realised - fees - funding, Decimal(ledger["balance"]["balance"]))
        order_fees = sum(Decimal(o["payedFee"]) for o in ledger["orders"])
        self.assertEqual(fees, order_fees)
