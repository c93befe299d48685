"""Documented REST-level validation codes for POST /api/v1/user/order."""
from decimal import Decimal

from extended_emulator.markets import REDUCE_ONLY

from .helpers import HOUR_MS, KEY_A, KEY_B, START_MS, EmulatorTestCase

DAY_MS = 24 * HOUR_MS


class OrderValidationTest(EmulatorTestCase):
    async def assert_code(self, body: dict, code: int, key: str = KEY_A):
        status, answer = await self.place(body, key)
        self.assertEqual((400, "ERROR"), (status, answer["status"]), answer)
        self.assertEqual(code, answer["error"]["code"], answer)

    async def test_size_and_tick_rules(self):
        await self.assert_code(self.order("BUY", "0.00005", "97000.0"), 1120)   # below minOrderSize 0.0001
        await self.assert_code(self.order("BUY", "0.000101", "97000.0"), 1123)  # finer than 0.00001
        await self.assert_code(self.order("BUY", "0.001", "97000.05"), 1125)    # finer than tick 0.1
        self.emu.update_trading_config("BTC-USD", min_price_change=Decimal("0.5"),
                                       min_order_size_change=Decimal("0.002"))
        await self.assert_code(self.order("BUY", "0.002", "97000.3"), 1124)     # right precision, wrong step
        await self.assert_code(self.order("BUY", "0.003", "97000.0"), 1121)

    async def test_max_value_and_open_order_limit(self):
        self.emu.update_trading_config("BTC-USD", max_limit_order_value=Decimal("500"), max_num_orders=2)
        await self.assert_code(self.order("BUY", "0.01", "97000.0"), 1122)
        for price in ("96000.0", "96001.0"):
            self.assertEqual(200, (await self.place(self.order("BUY", "0.001", price)))[0])
        await self.settle()
        await self.assert_code(self.order("BUY", "0.001", "96002.0"), 1126)

    async def test_price_bounds_against_mark(self):
        await self.assert_code(self.order("BUY", "0.001", "101900.0"), 1141)   # > mark * 1.05
        await self.assert_code(self.order("SELL", "0.001", "92100.0"), 1141)   # < mark * 0.95
        await self.assert_code(self.order("BUY", "0.001", "102000.0", order_type="MARKET", time_in_force="IOC"), 1141)
        status, _ = await self.place(self.order("BUY", "0.001", "101800.0", order_type="MARKET",
                                                time_in_force="IOC"))
        self.assertEqual(200, status)

    async def test_market_order_must_be_ioc_and_types(self):
        await self.assert_code(self.order("BUY", "0.001", "98000.0", order_type="MARKET"), 1139)
        await self.assert_code(self.order("BUY", "0.001", "98000.0", order_type="MARKET", time_in_force="FOK"), 1139)
        body = self.order("BUY", "0.001", "97000.0")
        body["type"] = "TWAP_NOT_A_TYPE"
        await self.assert_code(body, 1133)
        body = self.order("BUY", "0.001", "97000.0")
        body["trigger"] = {"triggerPrice": "96000", "triggerPriceType": "MARK", "direction": "UP",
                           "executionPriceType": "LIMIT"}
        await self.assert_code(body, 1133)  # a trigger belongs only on a CONDITIONAL order
        body["type"] = "CONDITIONAL"
        del body["trigger"]["triggerPriceType"]
        await self.assert_code(body, 400)  # missing field inside the trigger

    async def test_fee_must_cover_the_account_rate(self):
        await self.assert_code(self.order("BUY", "0.001", "97000.0", fee=Decimal("0.0004")), 1128)
        status, _ = await self.place(self.order("BUY", "0.001", "96000.0", fee=Decimal("0.0001"), post_only=True))
        self.assertEqual(200, status)  # post-only needs only the maker rate

    async def test_expiry_rules(self):
        await self.assert_code(self.order("BUY", "0.001", "97000.0", expiry_epoch_millis=START_MS - 1), 1135)
        await self.assert_code(self.order("BUY", "0.001", "97000.0", expiry_epoch_millis=START_MS + 91 * DAY_MS), 1135)
        status, _ = await self.place(self.order("BUY", "0.001", "96000.0", expiry_epoch_millis=START_MS + 89 * DAY_MS))
        self.assertEqual(200, status)

    async def test_nonce_range_and_missing_fields(self):
        for nonce in (0, 2 ** 31 + 1):
            body = self.order("BUY", "0.001", "97000.0")
            body["nonce"] = str(nonce)
            await self.assert_code(body, 1133)
        body = self.order("BUY", "0.001", "97000.0")
        del body["qty"]
        await self.assert_code(body, 400)
        body = self.order("BUY", "0.001", "97000.0")
        del body["price"]
        await self.assert_code(body, 1130)

    async def test_reduce_only_rules(self):
        await self.assert_code(self.order("SELL", "0.001", "97000.0", reduce_only=True), 1137)
        await self.place(self.order("BUY", "0.002", "97000.0"))
        await self.place(self.order("SELL", "0.002", "97000.0", 1), KEY_B)
        await self.settle()
        await self.assert_code(self.order("BUY", "0.001", "97000.0", reduce_only=True), 1138)
        await self.assert_code(self.order("SELL", "0.003", "97000.0", reduce_only=True), 1136)

    async def test_market_status_rules(self):
        await self.assert_code(self.order("BUY", "10", "0.32000", market="DOGE-USD"), 1014)
        await self.assert_code(self.order("BUY", "1", "0.5000", market="LUNA-USD"), 1002)
        body = self.order("BUY", "0.001", "97000.0")
        body["market"] = "NOPE-USD"
        await self.assert_code(body, 1001)
        self.assertEqual(REDUCE_ONLY, self.emu.exchange.markets["DOGE-USD"].status)

    async def test_balance_duplicate_and_signature(self):
        await self.assert_code(self.order("BUY", "12", "97000.0"), 1140)  # 1.164M notional / 10x > 100k
        body = self.order("BUY", "0.001", "96000.0")
        self.assertEqual(200, (await self.place(body))[0])
        again = self.order("BUY", "0.001", "96000.0", external_id=body["id"])
        await self.assert_code(again, 1134)
        await self.assert_code(self.order("BUY", "0.001", "96000.0"), 1101, KEY_B)  # signed by A's key

    async def test_wrong_vault_is_an_invalid_signature(self):
        from extended_emulator import OrderSpec, build_order_body
        from .helpers import PRIVATE_KEY_A, START_MS as now
        spec = OrderSpec("BTC-USD", "BUY", Decimal("0.001"), Decimal("96000.0"), Decimal("0.0005"),
                         now + HOUR_MS, 77, "wrong-vault")
        l2 = self.emu.exchange.markets["BTC-USD"].l2
        signed_for_other_vault = build_order_body(spec, l2, PRIVATE_KEY_A, 99999, "SN_MAIN")
        await self.assert_code(signed_for_other_vault, 1101)
        signed_for_other_vault["settlement"]["collateralPosition"] = "10002"  # claims the right vault
        await self.assert_code(signed_for_other_vault, 1101)
        wrong_chain = build_order_body(spec, l2, PRIVATE_KEY_A, 10002, "SN_SEPOLIA")
        await self.assert_code(wrong_chain, 1101)
        right = build_order_body(spec, l2, PRIVATE_KEY_A, 10002, "SN_MAIN")
        self.assertEqual(200, (await self.place(right))[0])

    async def test_testnet_expiry_limit_is_28_days(self):
        self.emu.exchange.network, self.emu.exchange.chain_id = "testnet", "SN_SEPOLIA"
        self.network = "testnet"
        await self.assert_code(self.order("BUY", "0.001", "97000.0", expiry_epoch_millis=START_MS + 29 * DAY_MS), 1135)
        status, _ = await self.place(self.order("BUY", "0.001", "96000.0", expiry_epoch_millis=START_MS + 27 * DAY_MS))
        self.assertEqual(200, status)
