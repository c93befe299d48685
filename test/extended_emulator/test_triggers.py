"""Conditional orders and TP/SL: UNTRIGGERED storage, triggering on mark/index/last, cancels, legs."""
from decimal import Decimal

from extended_emulator import LegSpec, Trigger
from extended_emulator.order_builder import Signer
from extended_emulator.signing import SignedTerms

from .helpers import HOUR_MS, KEY_A, KEY_B, PRIVATE_KEY_A, VAULT_A, EmulatorTestCase

D = Decimal


def conditional(trigger_price: str, direction: str, price_type: str = "MARK", execution: str = "LIMIT") -> dict:
    return dict(order_type="CONDITIONAL",
                trigger=Trigger(D(trigger_price), price_type, direction, execution))


def bracket(tp: tuple, sl: tuple, tp_sl_type: str = "ORDER") -> dict:
    """tp/sl: (trigger price, limit price)."""
    return dict(tp_sl_type=tp_sl_type, take_profit=LegSpec(D(tp[0]), D(tp[1])), stop_loss=LegSpec(D(sl[0]), D(sl[1])))


class TriggerTestCase(EmulatorTestCase):
    async def statuses_until(self, stream, order_id: int, final: str) -> list:
        seen = []
        while not seen or seen[-1] != final:
            message = await stream.next_of("ORDER")
            seen += [o["status"] for o in message["data"]["orders"] if o["id"] == order_id]
        return seen

    async def placed(self, body: dict, key: str = KEY_A) -> int:
        status, answer = await self.place(body, key)
        self.assertEqual(200, status, answer)
        await self.settle()
        return answer["data"]["id"]

    async def go_long(self, qty: str) -> None:
        await self.placed(self.order("BUY", qty, "98000.0", order_type="MARKET", time_in_force="IOC"))
        self.assertEqual(D(qty), self.emu.exchange.accounts[self.account_a].positions["BTC-USD"].size)

    def order_json(self, order_id: int) -> dict:
        return self.emu.exchange.accounts[self.account_a].orders[order_id].to_json()

    def position_size(self) -> Decimal:
        position = self.emu.exchange.accounts[self.account_a].positions.get("BTC-USD")
        return position.size if position is not None else D(0)


class ConditionalOrderTest(TriggerTestCase):
    async def test_untriggered_shapes_then_triggers_on_mark_and_fills(self):
        stream = await self.account_stream()
        await stream.drain()
        order_id = await self.placed(self.order("BUY", "0.001", "98100.0", **conditional("98000", "UP")))
        message = await stream.next_of("ORDER")
        streamed = message["data"]["orders"][0]
        self.assertEqual(("CONDITIONAL", "UNTRIGGERED"), (streamed["type"], streamed["status"]))
        self.assertEqual({"triggerPrice": "98000", "triggerPriceType": "MARK", "direction": "UP",
                          "executionPriceType": "LIMIT"}, streamed["trigger"])
        _, open_orders = await self.rest("GET", "/api/v1/user/orders", KEY_A, params={"type": "CONDITIONAL"})
        self.assertEqual([order_id], [o["id"] for o in open_orders["data"]])
        _, by_id = await self.rest("GET", f"/api/v1/user/orders/{order_id}", KEY_A)
        self.assertEqual("UP", by_id["data"]["trigger"]["triggerPriceDirection"])
        self.assertNotIn(order_id, self._book_ids())
        self.emu.set_mark_price("BTC-USD", D("97900"))  # not reached: stays untriggered
        await self.settle()
        self.assertEqual("UNTRIGGERED", self.order_json(order_id)["status"])
        self.emu.set_mark_price("BTC-USD", D("98000"))
        await self.settle()
        self.assertEqual(["TRIGGERED", "FILLED"], await self.statuses_until(stream, order_id, "FILLED"))
        self.assertEqual(D("0.001"), self.position_size())

    def _book_ids(self) -> set:
        return {o.id for o in self.emu.exchange.books["BTC-USD"].orders()}

    async def test_limit_execution_rests_when_not_crossing(self):
        order_id = await self.placed(self.order("BUY", "0.001", "96000.0", **conditional("96500", "DOWN")))
        self.emu.set_mark_price("BTC-USD", D("96500"), requote=False)  # the book still quotes around 97000
        await self.settle()
        self.assertEqual("NEW", self.order_json(order_id)["status"])
        self.assertIn(order_id, self._book_ids())

    async def test_index_trigger_with_market_execution_is_ioc(self):
        body = self.order("SELL", "0.002", "95000.0", **conditional("96000", "DOWN", "INDEX", "MARKET"))
        order_id = await self.placed(body)
        self.emu.set_mark_price("BTC-USD", D("95900"), requote=False)  # the mark does not matter
        await self.settle()
        self.assertEqual("UNTRIGGERED", self.order_json(order_id)["status"])
        self.emu.set_index_price("BTC-USD", D("95950"))
        await self.settle()
        data = self.order_json(order_id)
        self.assertEqual(("FILLED", "0.002"), (data["status"], data["filledQty"]))
        self.assertEqual(D("-0.002"), self.position_size())

    async def test_last_price_trigger_fires_after_a_trade(self):
        order_id = await self.placed(self.order("BUY", "0.001", "97200.0", **conditional("97010", "UP", "LAST")))
        self.assertEqual("UNTRIGGERED", self.order_json(order_id)["status"])  # no trade yet: no last price
        await self.placed(self.order("BUY", "0.001", "97100.0", 1), KEY_B)  # B lifts the best ask (~97019)
        await self.settle()
        self.assertEqual("FILLED", self.order_json(order_id)["status"])

    async def test_market_execution_remainder_is_cancelled(self):
        body = self.order("BUY", "0.001", "90000.0", **conditional("90000", "DOWN", "MARK", "MARKET"))
        order_id = await self.placed(body)
        self.emu.set_mark_price("BTC-USD", D("89000"), requote=False)
        await self.settle()
        data = self.order_json(order_id)
        self.assertEqual(("CANCELLED", "NO_LIQUIDITY"), (data["status"], data["statusReason"]))


class UntriggeredCancelTest(TriggerTestCase):
    async def test_cancel_by_id_external_id_and_mass_cancel(self):
        ids = [await self.placed(self.order("BUY", "0.001", "98100.0", **conditional("98000", "UP")))
               for _ in range(3)]
        external = self.order_json(ids[1])["externalId"]
        self.assertEqual(200, (await self.rest("DELETE", f"/api/v1/user/order/{ids[0]}", KEY_A))[0])
        self.assertEqual(200, (await self.rest("DELETE", "/api/v1/user/order", KEY_A,
                                               params={"externalId": external}))[0])
        self.assertEqual(200, (await self.rest("POST", "/api/v1/user/order/massCancel", KEY_A,
                                               body={"markets": ["BTC-USD"]}))[0])
        await self.settle()
        self.assertEqual(["CANCELLED"] * 3, [self.order_json(i)["status"] for i in ids])
        self.emu.set_mark_price("BTC-USD", D("98000"))
        await self.settle()
        self.assertEqual(["CANCELLED"] * 3, [self.order_json(i)["status"] for i in ids])
        self.assertEqual(D(0), self.position_size())
        self.assertEqual({}, self.emu.exchange.watched.get("BTC-USD", {}))

    async def test_replace_untriggered_order_with_cancel_id(self):
        first = self.order("BUY", "0.001", "98100.0", **conditional("98000", "UP"))
        first_id = await self.placed(first)
        second_id = await self.placed(self.order("BUY", "0.001", "98200.0", cancel_id=first["id"],
                                                 **conditional("98100", "UP")))
        self.assertEqual(("CANCELLED", "ORDER_REPLACED"),
                         tuple(self.order_json(first_id)[k] for k in ("status", "statusReason")))
        self.assertEqual(("UNTRIGGERED", "98100"),
                         (self.order_json(second_id)["status"], self.order_json(second_id)["trigger"]["triggerPrice"]))

    async def test_untriggered_order_expires(self):
        order_id = await self.placed(self.order("BUY", "0.001", "98100.0", expiry_epoch_millis=self.emu.clock.now_ms()
                                                + 60_000, **conditional("98000", "UP")))
        self.emu.clock.advance(61)
        await self.settle()
        self.assertEqual("EXPIRED", self.order_json(order_id)["status"])


class TakeProfitStopLossTest(TriggerTestCase):
    async def test_take_profit_leg_closes_the_filled_entry(self):
        body = self.order("BUY", "0.01", "97100.0", **bracket(("99000", "98900"), ("95000", "94900")))
        parent_id = await self.placed(body)
        parent = self.order_json(parent_id)
        self.assertEqual(("FILLED", "ORDER"), (parent["status"], parent["tpSlType"]))
        self.assertEqual({"triggerPrice": "99000", "triggerPriceType": "MARK", "price": "98900",
                          "priceType": "LIMIT"}, parent["takeProfit"])
        self.assertEqual(D("0.01"), self.position_size())
        self.emu.set_mark_price("BTC-USD", D("99000"))
        await self.settle()
        account = self.emu.exchange.accounts[self.account_a]
        (child,) = account.find_by_external_id(body["id"] + "-TP")
        self.assertEqual(("TPSL", "SELL", D("0.01"), "FILLED", True),
                         (child.order_type, child.side, child.qty, child.status, child.reduce_only))
        self.assertEqual(D(0), self.position_size())
        self.emu.set_mark_price("BTC-USD", D("94000"))  # the stop loss was spent with the take profit
        await self.settle()
        self.assertEqual([], account.find_by_external_id(body["id"] + "-SL"))
        self.assertEqual(D(0), self.position_size())

    async def test_stop_loss_leg_of_a_resting_entry_arms_only_after_a_fill(self):
        body = self.order("BUY", "0.01", "97000.0", **bracket(("99000", "98900"), ("95000", "94900")))
        parent_id = await self.placed(body)  # rests inside the market makers' spread (best bid)
        account = self.emu.exchange.accounts[self.account_a]
        for mark in ("95000", "97000"):  # entry unfilled: nothing to protect yet
            self.emu.set_mark_price("BTC-USD", D(mark), requote=False)
            await self.settle()
        self.assertEqual([], account.find_by_external_id(body["id"] + "-SL"))
        await self.placed(self.order("SELL", "0.004", "97000.0", 1), KEY_B)  # fills 0.004 of the entry
        # the rest of the entry is cancelled (it would otherwise be the best bid, and the stop loss
        # would self-trade against it); the legs still protect the filled 0.004
        self.assertEqual(200, (await self.rest("DELETE", f"/api/v1/user/order/{parent_id}", KEY_A))[0])
        await self.settle()
        self.emu.set_mark_price("BTC-USD", D("95000"), requote=False)
        await self.settle()
        (child,) = account.find_by_external_id(body["id"] + "-SL")
        self.assertEqual((D("0.004"), "SELL", D("94900"), "FILLED"), (child.qty, child.side, child.price, child.status))
        self.assertEqual(("CANCELLED", "0.004"), tuple(self.order_json(parent_id)[k] for k in ("status", "filledQty")))
        self.assertEqual(D(0), self.position_size())

    async def test_position_tpsl_order_closes_the_whole_position(self):
        await self.go_long("0.01")
        body = self.order("SELL", "0", "0", order_type="TPSL", reduce_only=True,
                          **bracket(("99000", "98900"), ("96000", "95900"), "POSITION"))
        stream = await self.account_stream()
        await stream.drain()
        order_id = await self.placed(body)
        streamed = (await stream.next_of("ORDER"))["data"]["orders"][0]
        self.assertEqual(("TPSL", "UNTRIGGERED", "POSITION", "0", "0"),
                         tuple(streamed[k] for k in ("type", "status", "tpSlType", "qty", "price")))
        self.assertEqual({"triggerPrice": "96000", "triggerPriceType": "MARK", "price": "95900",
                          "priceType": "LIMIT"}, streamed["stopLoss"])  # no settlement echoed
        self.emu.set_mark_price("BTC-USD", D("96000"))
        await self.settle()
        data = self.order_json(order_id)
        self.assertEqual(("FILLED", "0.01", "95900"), (data["status"], data["filledQty"], data["price"]))
        self.assertEqual(D(0), self.position_size())

    async def test_partial_tpsl_order_closes_its_size(self):
        await self.go_long("0.01")
        body = self.order("SELL", "0.004", "0", order_type="TPSL", reduce_only=True,
                          **bracket(("98000", "97900"), ("96000", "95900")))
        order_id = await self.placed(body)
        self.emu.set_mark_price("BTC-USD", D("98000"))
        await self.settle()
        self.assertEqual("FILLED", self.order_json(order_id)["status"])
        self.assertEqual(D("0.006"), self.position_size())


class TriggerValidationTest(TriggerTestCase):
    async def assert_code(self, body: dict, code: int):
        status, answer = await self.place(body)
        self.assertEqual((400, code), (status, answer["error"]["code"]), answer)

    async def test_bad_leg_signature_is_1101(self):
        body = self.order("BUY", "0.01", "97100.0", **bracket(("99000", "98900"), ("95000", "94900")))
        body["takeProfit"]["settlement"]["signature"]["r"] = hex(int(body["takeProfit"]["settlement"]["signature"]["r"],
                                                                     16) + 1)
        await self.assert_code(body, 1101)
        body = self.order("BUY", "0.01", "97100.0", **bracket(("99000", "98900"), ("95000", "94900")))
        signer = Signer(PRIVATE_KEY_A, VAULT_A, self.emu.exchange.markets["BTC-USD"].l2, "SN_MAIN")
        same_side = SignedTerms("BUY", D("0.01"), D("98900"), D("0.0005"), body["expiryEpochMillis"],
                                int(body["nonce"]))
        body["takeProfit"]["settlement"] = signer.settlement(same_side)  # a leg must sign the closing side
        await self.assert_code(body, 1101)

    async def test_documented_codes(self):
        plain = self.order("BUY", "0.001", "97000.0", order_type="CONDITIONAL")
        await self.assert_code(plain, 1143)
        await self.assert_code(self.order("BUY", "0.001", "97000.0", post_only=True,
                                          **conditional("97000", "UP", "MARK", "MARKET")), 1144)
        await self.assert_code(self.order("SELL", "0.001", "0", order_type="TPSL", tp_sl_type="ORDER",
                                          reduce_only=True), 1131)
        await self.assert_code(self.order("SELL", "0.001", "0", order_type="TPSL",
                                          **bracket(("98000", "97900"), ("96000", "95900"))), 1133)
        await self.assert_code(self.order("SELL", "0.001", "0", order_type="TPSL", reduce_only=True,
                                          **bracket(("98000", "97900"), ("96000", "95900"))), 1137)
        await self.assert_code(self.order("SELL", "0.001", "0", order_type="TPSL", reduce_only=True,
                                          **bracket(("98000", "97900"), ("96000", "95900"), "POSITION")), 1129)
        no_type = self.order("BUY", "0.01", "97100.0", **bracket(("99000", "98900"), ("95000", "94900")))
        del no_type["tpSlType"]
        await self.assert_code(no_type, 1133)
        bad_bracket = bracket(("99000", "98900"), ("95000", "80000"))
        await self.assert_code(self.order("BUY", "0.01", "97100.0", **bad_bracket), 1141)
        await self.assert_code(self.order("BUY", "0.001", "97000.05", **conditional("97000", "UP")), 1125)
        await self.assert_code(self.order("BUY", "0.001", "97000.0", **conditional("97000.05", "UP")), 1125)

    async def test_legs_are_spent_when_the_entry_expires(self):
        body = self.order("BUY", "0.01", "97100.0", expiry_epoch_millis=self.emu.clock.now_ms() + HOUR_MS,
                          **bracket(("99000", "98900"), ("95000", "94900")))
        await self.placed(body)
        self.emu.clock.advance(HOUR_MS / 1000 + 1)
        self.emu.set_mark_price("BTC-USD", D("99000"))
        await self.settle()
        account = self.emu.exchange.accounts[self.account_a]
        self.assertEqual([], account.find_by_external_id(body["id"] + "-TP"))
        self.assertEqual(D("0.01"), self.position_size())
