"""Matching-engine outcomes reported asynchronously on the account stream."""
from decimal import Decimal

from .helpers import HOUR_MS, KEY_A, KEY_B, EmulatorTestCase


class MatchingTest(EmulatorTestCase):
    async def order_update(self, stream, order_id: int) -> dict:
        while True:
            message = await stream.next_of("ORDER")
            for order in message["data"]["orders"]:
                if order["id"] == order_id:
                    return order

    async def final_update(self, stream, order_id: int) -> dict:
        """Skip NEW / PARTIALLY_FILLED updates of this order."""
        update = await self.order_update(stream, order_id)
        while update["status"] in ("NEW", "PARTIALLY_FILLED"):
            update = await self.order_update(stream, order_id)
        return update

    async def test_post_only_that_would_cross_is_rejected(self):
        stream = await self.account_stream()
        _, best_ask = self.best()
        status, answer = await self.place(self.order("BUY", "0.001", str(best_ask), post_only=True))
        self.assertEqual(200, status)
        update = await self.order_update(stream, answer["data"]["id"])
        self.assertEqual(("REJECTED", "POST_ONLY_FAILED"), (update["status"], update["statusReason"]))
        self.assertEqual([], self.emu.ledger(KEY_A)["trades"])

    async def test_post_only_resting_gets_maker_fee(self):
        stream = await self.account_stream()
        _, answer = await self.place(self.order("SELL", "0.001", "97010.0", post_only=True, fee=Decimal("0.0001")))
        self.assertEqual("NEW", (await self.order_update(stream, answer["data"]["id"]))["status"])
        await self.place(self.order("BUY", "0.001", "97010.0", 1), KEY_B)
        trade = (await stream.next_of("TRADE"))["data"]["trades"][0]
        self.assertEqual(("0.001", False, "0.009701"), (trade["qty"], trade["isTaker"], trade["fee"]))

    async def test_reduce_only_reduces_and_fails_when_position_is_gone(self):
        await self.place(self.order("BUY", "0.002", "97000.0"))
        await self.place(self.order("SELL", "0.002", "97000.0", 1), KEY_B)
        await self.settle()
        stream = await self.account_stream()
        _, first = await self.place(self.order("SELL", "0.002", "97010.0", reduce_only=True))
        _, second = await self.place(self.order("SELL", "0.002", "97011.0", reduce_only=True))
        await self.settle()
        await self.place(self.order("BUY", "0.002", "97010.0", 1), KEY_B)  # fills `first`, closing A
        self.assertEqual("FILLED", (await self.final_update(stream, first["data"]["id"]))["status"])
        update = await self.final_update(stream, second["data"]["id"])
        self.assertEqual(("CANCELLED", "REDUCE_ONLY_FAILED"), (update["status"], update["statusReason"]))
        self.assertEqual([], self.emu.ledger(KEY_A)["positions"])
        status, answer = await self.place(self.order("SELL", "0.002", "97011.0", reduce_only=True))
        self.assertEqual((400, 1137), (status, answer["error"]["code"]))

    async def test_self_trade_protection_cancels_the_taker(self):
        stream = await self.account_stream()
        await self.place(self.order("SELL", "0.001", "97010.0"))
        _, answer = await self.place(self.order("BUY", "0.001", "97010.0"))
        update = await self.order_update(stream, answer["data"]["id"])
        self.assertEqual(("CANCELLED", "SELF_TRADE_PROTECTION"), (update["status"], update["statusReason"]))
        _, answer = await self.place(self.order("BUY", "0.001", "97010.0", self_trade_protection="DISABLED"))
        update = await self.final_update(stream, answer["data"]["id"])
        self.assertEqual("FILLED", update["status"])

    async def test_fok_without_liquidity_and_ioc_remainder(self):
        stream = await self.account_stream()
        _, best_ask = self.best()
        _, fok = await self.place(self.order("BUY", "5", str(best_ask), time_in_force="FOK"))
        update = await self.order_update(stream, fok["data"]["id"])
        self.assertEqual(("CANCELLED", "NO_LIQUIDITY", "0"),
                         (update["status"], update["statusReason"], update["filledQty"]))
        _, ioc = await self.place(self.order("BUY", "5", str(best_ask), time_in_force="IOC"))
        update = await self.final_update(stream, ioc["data"]["id"])
        self.assertEqual("CANCELLED", update["status"])
        self.assertGreater(Decimal(update["filledQty"]), 0)

    async def test_cancel_by_id_external_id_and_unknown(self):
        stream = await self.account_stream()
        _, first = await self.place(self.order("BUY", "0.001", "96000.0"))
        body = self.order("BUY", "0.001", "96001.0")
        _, second = await self.place(body)
        await self.settle()
        status, _ = await self.rest("DELETE", f"/api/v1/user/order/{first['data']['id']}", KEY_A)
        self.assertEqual(200, status)
        self.assertEqual("CANCELLED", (await self.final_update(stream, first["data"]["id"]))["status"])
        status, _ = await self.rest("DELETE", "/api/v1/user/order", KEY_A, params={"externalId": body["id"]})
        self.assertEqual(200, status)
        self.assertEqual("CANCELLED", (await self.final_update(stream, second["data"]["id"]))["status"])
        status, answer = await self.rest("DELETE", "/api/v1/user/order/12345", KEY_A)
        self.assertEqual((404, 404), (status, answer["error"]["code"]))
        status, answer = await self.rest("DELETE", f"/api/v1/user/order/{first['data']['id']}", KEY_B)
        self.assertEqual(404, status)  # another account's order is unknown to B

    async def test_mass_cancel_and_dead_man_switch(self):
        for price in ("96000.0", "96001.0"):
            await self.place(self.order("BUY", "0.001", price))
        await self.place(self.order("BUY", "0.1", "3000.00", market="ETH-USD"))
        await self.settle()
        status, answer = await self.rest("POST", "/api/v1/user/order/massCancel", KEY_A, {})
        self.assertEqual((400, "ERROR"), (status, answer["status"]))
        await self.rest("POST", "/api/v1/user/order/massCancel", KEY_A, {"markets": ["BTC-USD"]})
        await self.settle()
        self.assertEqual(["ETH-USD"], [o["market"] for o in self.emu.ledger(KEY_A)["openOrders"]])
        status, _ = await self.rest("POST", "/api/v1/user/deadmanswitch", KEY_A, params={"countdownTime": "60"})
        self.assertEqual(200, status)
        self.emu.clock.advance(59)
        await self.settle()
        self.assertEqual(1, len(self.emu.ledger(KEY_A)["openOrders"]))
        self.emu.clock.advance(2)
        await self.settle()
        self.assertEqual([], self.emu.ledger(KEY_A)["openOrders"])

    async def test_edit_replaces_order_via_cancel_id(self):
        stream = await self.account_stream()
        original = self.order("BUY", "0.001", "96000.0")
        _, first = await self.place(original)
        await self.order_update(stream, first["data"]["id"])
        _, second = await self.place(self.order("BUY", "0.002", "96100.0", cancel_id=original["id"]))
        old = await self.order_update(stream, first["data"]["id"])
        self.assertEqual(("CANCELLED", "ORDER_REPLACED"), (old["status"], old["statusReason"]))
        new = await self.order_update(stream, second["data"]["id"])
        self.assertEqual(("NEW", "0.002"), (new["status"], new["qty"]))
        status, answer = await self.place(self.order("BUY", "0.001", "96000.0", cancel_id="no-such-order"))
        self.assertEqual((400, 1142), (status, answer["error"]["code"]))

    async def test_gtt_order_expires_with_the_clock(self):
        stream = await self.account_stream()
        _, answer = await self.place(self.order("BUY", "0.001", "96000.0"))
        await self.order_update(stream, answer["data"]["id"])
        self.emu.clock.advance(HOUR_MS / 1000 + 1)
        self.assertEqual("EXPIRED", (await self.final_update(stream, answer["data"]["id"]))["status"])
        self.assertNotIn(Decimal("96000.0"), dict(self.emu.exchange.books["BTC-USD"].levels(True)))
