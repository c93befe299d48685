"""Envelope, authentication, mandatory User-Agent, rate limit, balance 404, public REST shapes."""
from decimal import Decimal

import aiohttp

from extended_emulator import Emulator

from .helpers import KEY_A, START_MS, EmulatorTestCase

import unittest


class HttpBasicsTest(EmulatorTestCase):
    async def test_private_endpoints_need_a_known_api_key(self):
        for key in (None, "unknown-key"):
            status, body = await self.rest("GET", "/api/v1/user/balance", key)
            self.assertEqual((401, "ERROR", 401), (status, body["status"], body["error"]["code"]))
        status, body = await self.rest("GET", "/api/v1/user/balance", KEY_A)
        self.assertEqual((200, "OK"), (status, body["status"]))

    async def test_user_agent_is_mandatory_for_rest_and_ws(self):
        async with aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as bare:
            async with bare.get(self.base_url + "/api/v1/info/markets") as response:
                body = await response.json()
            self.assertEqual((400, 400), (response.status, body["error"]["code"]))
            with self.assertRaises(aiohttp.WSServerHandshakeError) as caught:
                await bare.ws_connect(self.emu.ws_url + "/orderbooks/BTC-USD")
            self.assertEqual(400, caught.exception.status)

    async def test_balance_is_404_when_zero(self):
        self.emu.add_account("empty", 0x1234, 30001, Decimal("0"))
        status, body = await self.rest("GET", "/api/v1/user/balance", "empty")
        self.assertEqual((404, "ERROR"), (status, body["status"]))

    async def test_public_shapes(self):
        _, markets = await self.rest("GET", "/api/v1/info/markets", params={"market": "ETH-USD"})
        self.assertEqual(["ETH-USD"], [m["name"] for m in markets["data"]])
        market = markets["data"][0]
        self.assertEqual(("USD", "ACTIVE", "STARKX"), (market["collateralAssetName"], market["status"],
                                                       market["l2Config"]["type"]))
        _, book = await self.rest("GET", "/api/v1/info/markets/BTC-USD/orderbook")
        self.assertEqual({"qty", "price"}, set(book["data"]["bid"][0]))
        status, body = await self.rest("GET", "/api/v1/info/markets/NOPE-USD/stats")
        self.assertEqual((404, "NOT_FOUND"), (status, body["error"]["code"]))
        _, stats = await self.rest("GET", "/api/v1/info/markets/BTC-USD/stats")
        self.assertEqual(book["data"]["bid"][0]["price"], stats["data"]["bidPrice"])
        status, body = await self.rest("GET", "/api/v1/info/candles/BTC-USD/mark-prices",
                                       params={"interval": "PT1M", "limit": "5"})
        self.assertEqual((200, "97000.0"), (status, body["data"][0]["c"]))
        status, body = await self.rest("GET", "/api/v1/info/candles/BTC-USD/trades",
                                       params={"interval": "PT7M", "limit": "5"})
        self.assertEqual((400, 1005), (status, body["error"]["code"]))
        status, body = await self.rest("GET", "/api/v1/nope")
        self.assertEqual((404, "ERROR"), (status, body["status"]))

    async def test_leverage_and_fees(self):
        status, body = await self.rest("PATCH", "/api/v1/user/leverage", KEY_A, {"market": "BTC-USD", "leverage": "20"})
        self.assertEqual((200, "20"), (status, body["data"]["leverage"]))
        _, body = await self.rest("GET", "/api/v1/user/leverage", KEY_A, params={"market": "BTC-USD"})
        self.assertEqual([{"market": "BTC-USD", "leverage": "20"}], body["data"])
        for leverage, code in (("0", 1049), ("51", 1050), ("2.5", 1053)):
            status, body = await self.rest("PATCH", "/api/v1/user/leverage", KEY_A,
                                           {"market": "BTC-USD", "leverage": leverage})
            self.assertEqual((400, code), (status, body["error"]["code"]))
        _, fees = await self.rest("GET", "/api/v1/user/fees", KEY_A, params={"market": "BTC-USD"})
        self.assertEqual([{"market": "BTC-USD", "makerFeeRate": "0.0001", "takerFeeRate": "0.0005"}], fees["data"])


class RateLimitTest(unittest.IsolatedAsyncioTestCase):
    async def test_429_after_the_per_minute_budget(self):
        emu = Emulator(rate_limit_per_minute=5, mm_interval=None, clock_start_ms=START_MS, frozen_clock=True)
        url = await emu.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as session:
                statuses = []
                for _ in range(7):
                    async with session.get(url + "/api/v1/info/markets") as response:
                        statuses.append(response.status)
                        body = await response.json()
                self.assertEqual([200] * 5 + [429, 429], statuses)
                self.assertEqual(429, body["error"]["code"])
                async with session.get(url + "/_emulator/clock") as response:
                    self.assertEqual(200, response.status)  # admin routes are not rate limited
        finally:
            await emu.stop()

    def test_default_budget_is_the_documented_1000(self):
        self.assertEqual(1000, Emulator(mm_interval=None).rate_limiter.per_minute)
