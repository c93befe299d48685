"""SDK golden vectors: hash reproduction, acceptance over REST, and the rejection of one-field mutations.

Rule for the expected code of a mutation: a change to a signed value (anything entering a Stark
settlement hash: qty, price, fee, nonce, expiry, side, the settlement itself, a leg's price or its
settlement) must answer 1101; a change that breaks a documented validation rule before any signature
is involved (an unknown enum value, a trigger on the wrong side, a priced TPSL order, a sized
POSITION TPSL) answers that rule's code. Trigger prices and price types are not signed by the SDK, so
changing them to other valid values cannot be detected (``UnsignedFieldsTest``).
"""
import copy
import json
from datetime import datetime
from decimal import Decimal

import aiohttp
import unittest

from extended_emulator import Emulator, FeeRates, OrderSpec, build_order_body
from extended_emulator import signing
from extended_emulator.markets import default_markets
from extended_emulator.triggers import entire_position_qty

from .helpers import PRIVATE_KEY_B, load_vectors

LEGS = ("takeProfit", "stopLoss")


def mutate(body: dict, path: list, value) -> dict:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return changed


def bump_hex(raw: str) -> str:
    return hex(int(raw, 16) + 1)


def other_key(_) -> str:
    return hex(signing.public_key_of(PRIVATE_KEY_B))


def settlement_mutations(body: dict, prefix: list):
    yield "r", mutate(body, prefix + ["signature", "r"], bump_hex)
    yield "s", mutate(body, prefix + ["signature", "s"], bump_hex)
    yield "starkKey", mutate(body, prefix + ["starkKey"], other_key)
    yield "collateralPosition", mutate(body, prefix + ["collateralPosition"], lambda v: str(int(v) + 1))


def order_mutations(body: dict):
    """(name, body, code) for the order-level fields."""
    position_tpsl = body.get("tpSlType") == "POSITION" and body["type"] == "TPSL"
    if position_tpsl:
        yield "qty", mutate(body, ["qty"], "0.001"), 1129  # a POSITION TPSL has no size of its own
    else:
        yield "qty", mutate(body, ["qty"], lambda q: str(Decimal(q) * 2)), 1101
    if body["type"] == "TPSL":
        yield "price", mutate(body, ["price"], "1"), 1133  # a TPSL order is priced by its legs
    else:
        # +1 USD: a sub-quantum change would round to the same signed collateral amount
        yield "price", mutate(body, ["price"], lambda p: str(Decimal(p) + 1)), 1101
    yield "fee", mutate(body, ["fee"], lambda f: str(Decimal(f) + Decimal("0.0001"))), 1101
    yield "nonce", mutate(body, ["nonce"], lambda n: str(int(n) + 1)), 1101
    yield "expiryEpochMillis", mutate(body, ["expiryEpochMillis"], lambda e: e + 1000), 1101
    yield "side", mutate(body, ["side"], lambda s: "BUY" if s == "SELL" else "SELL"), 1101
    if "settlement" in body:
        for name, changed in settlement_mutations(body, ["settlement"]):
            yield name, changed, 1101


def trigger_mutations(body: dict):
    if "trigger" not in body:
        return
    yield "trigger.triggerPriceType", mutate(body, ["trigger", "triggerPriceType"], "MID"), 1133
    yield "trigger.direction", mutate(body, ["trigger", "direction"], "SIDEWAYS"), 1133
    yield "trigger.executionPriceType", mutate(body, ["trigger", "executionPriceType"], "STOP"), 1133
    # a long conditional order must be priced <= trigger * (1 + cap)
    yield "trigger.triggerPrice", mutate(body, ["trigger", "triggerPrice"], "30000"), 1141
    yield "trigger removed", {k: v for k, v in body.items() if k != "trigger"}, 1143


def leg_mutations(body: dict):
    for leg in (name for name in LEGS if name in body):
        yield f"{leg}.price", mutate(body, [leg, "price"], lambda p: str(Decimal(p) + 1)), 1101
        for name, changed in settlement_mutations(body, [leg, "settlement"]):
            yield f"{leg}.settlement.{name}", changed, 1101
        yield f"{leg}.triggerPriceType", mutate(body, [leg, "triggerPriceType"], "MID"), 1133
        yield f"{leg}.priceType", mutate(body, [leg, "priceType"], "STOP"), 1133
        wrong_side = "30000" if leg == "takeProfit" else "60000"  # TP below / SL above the entry price
        yield f"{leg}.triggerPrice", mutate(body, [leg, "triggerPrice"], wrong_side), 1141
    if "tpSlType" in body:
        yield "tpSlType", mutate(body, ["tpSlType"], "BOTH"), 1133
        yield "tpSlType removed", {k: v for k, v in body.items() if k != "tpSlType"}, 1133


def all_mutations(body: dict):
    yield from order_mutations(body)
    yield from trigger_mutations(body)
    yield from leg_mutations(body)


def leg_side(body: dict) -> str:
    if body["type"] == "TPSL":
        return body["side"]
    return "SELL" if body["side"] == "BUY" else "BUY"


class VectorHashTest(unittest.TestCase):
    def setUp(self):
        self.vectors = load_vectors()
        self.l2 = default_markets()["BTC-USD"].l2
        self.public_key = int(self.vectors["account"]["public_key"], 16)

    def _check(self, settlement_or_none, debug: dict, side: str, qty: Decimal, price: Decimal, body: dict,
               name: str) -> int:
        amounts = signing.order_amounts(side, qty, price, Decimal(body["fee"]) if price else Decimal(0), self.l2)
        msg_hash = signing.order_hash(10002, self.l2, amounts, body["expiryEpochMillis"], int(body["nonce"]),
                                      self.public_key, "SN_SEPOLIA")
        self.assertEqual((int(debug["syntheticAmount"]), int(debug["collateralAmount"]), int(debug["feeAmount"])),
                         (amounts.base, amounts.quote, amounts.fee), name)
        if settlement_or_none is not None:
            signature = settlement_or_none["signature"]
            self.assertTrue(signing.verify(self.public_key, msg_hash, int(signature["r"], 16),
                                           int(signature["s"], 16)), name)
        return msg_hash

    def test_recomputed_hash_and_signature_match_every_vector(self):
        for vector in self.vectors["order_vectors"]:
            body = vector["expected"]["body"]
            price = Decimal(body["price"])
            msg_hash = self._check(body.get("settlement"), body["debuggingAmounts"], body["side"],
                                   Decimal(body["qty"]), price, body, vector["name"])
            # a TPSL order signs nothing at the top level; its id is the hash of (qty, price 0, fee 0)
            self.assertEqual(int(vector["expected"]["msg_hash"]), msg_hash, vector["name"])

    def test_leg_settlements_sign_the_closing_side_and_size(self):
        trading = default_markets()["BTC-USD"].trading
        checked = 0
        for vector in self.vectors["order_vectors"]:
            body = vector["expected"]["body"]
            for leg in (name for name in LEGS if name in body):
                price = Decimal(body[leg]["price"])
                qty = entire_position_qty(trading, price) if body["tpSlType"] == "POSITION" else Decimal(body["qty"])
                self._check(body[leg]["settlement"], body[leg]["debuggingAmounts"], leg_side(body), qty, price, body,
                            f"{vector['name']}/{leg}")
                checked += 1
        self.assertEqual(6, checked)

    def test_vector_market_config_matches_default_btc_market(self):
        l2 = self.vectors["markets"]["BTC-USD"]["l2Config"]
        self.assertEqual(l2, {**default_markets()["BTC-USD"].l2.to_json()})
        trading = self.vectors["markets"]["BTC-USD"]["tradingConfig"]
        self.assertEqual(Decimal(trading["maxPositionValue"]), default_markets()["BTC-USD"].trading.max_position_value)


async def vector_emulator(vector: dict, vectors: dict) -> Emulator:
    now_ms = int(datetime.fromisoformat(vector["inputs"]["now_utc"]).timestamp() * 1000)
    emu = Emulator(seed=7, network="testnet", clock_start_ms=now_ms, frozen_clock=True, mm_interval=None)
    await emu.start("127.0.0.1", 0)
    # The vector LIMIT price 43445.1168 is off the vector market's 0.1 tick; price precision is not
    # a signed field, so the tick is relaxed here to let the signature check be the one that decides.
    emu.update_trading_config("BTC-USD", min_price_change=Decimal("0.0001"))
    account = vectors["account"]
    emu.add_account(account["api_key"], int(account["public_key"], 16), account["vault"], Decimal("100000"),
                    fee_rates=FeeRates(Decimal("0"), Decimal("0.0005")))
    mark = "50000" if vector["expected"]["body"]["type"] == "MARKET" else "43445.1"
    emu.set_mark_price("BTC-USD", Decimal(mark))
    return emu


async def open_long(session: aiohttp.ClientSession, emu: Emulator, vectors: dict, qty: str) -> None:
    """TPSL orders are reduce-only: the vector account first buys a long position from the book."""
    account = vectors["account"]
    market = emu.exchange.markets["BTC-USD"]
    spec = OrderSpec("BTC-USD", "BUY", Decimal(qty), Decimal("44000"), Decimal("0.0005"),
                     emu.clock.now_ms() + 3_600_000, 5, "open-long", order_type="MARKET", time_in_force="IOC")
    body = build_order_body(spec, market.l2, int(account["private_key"], 16), account["vault"], "SN_SEPOLIA")
    async with session.post(emu.base_url + "/api/v1/user/order", json=body,
                            headers={"X-Api-Key": account["api_key"]}) as response:
        assert response.status == 200, await response.text()
    position = emu.exchange.account_by_key(account["api_key"]).positions["BTC-USD"]
    assert position.size == Decimal(qty), position


class VectorSubmissionTest(unittest.IsolatedAsyncioTestCase):
    async def test_every_vector_accepted_and_every_mutation_rejected(self):
        vectors = load_vectors()
        self.assertEqual(9, len(vectors["order_vectors"]))
        async with aiohttp.ClientSession() as session:
            for vector in vectors["order_vectors"]:
                emu = await vector_emulator(vector, vectors)
                try:
                    if vector["expected"]["body"]["type"] == "TPSL":
                        await open_long(session, emu, vectors, "0.001")
                    await self._check_vector(session, emu, vector, vectors["account"]["api_key"])
                finally:
                    await emu.stop()

    async def _check_vector(self, session, emu, vector, api_key):
        body = vector["expected"]["body"]
        url = emu.base_url + "/api/v1/user/order"
        headers = {"X-Api-Key": api_key}
        names = []
        for name, mutated, code in all_mutations(body):
            async with session.post(url, json=mutated, headers=headers) as response:
                answer = await response.json()
            self.assertEqual(400, response.status, f"{vector['name']}/{name}: {answer}")
            self.assertEqual(code, answer["error"]["code"], f"{vector['name']}/{name}: {answer}")
            names.append(name)
        self.assertGreaterEqual(len(names), 10, vector["name"])
        async with session.post(url, data=json.dumps(body), headers=headers) as response:
            answer = await response.json()
        self.assertEqual(200, response.status, f"{vector['name']}: {answer}")
        self.assertEqual(body["id"], answer["data"]["externalId"])
        self.assertIsInstance(answer["data"]["id"], int)


class UnsignedFieldsTest(unittest.IsolatedAsyncioTestCase):
    """Trigger prices/types are outside every signed hash: other valid values are accepted as sent."""

    async def test_valid_changes_to_unsigned_trigger_fields_are_accepted(self):
        vectors = load_vectors()
        by_name = {v["name"]: v for v in vectors["order_vectors"]}
        conditional = by_name["conditional_buy_default_expiry"]
        bracket = by_name["limit_buy_with_order_tpsl"]
        variants = [
            (conditional, mutate(conditional["expected"]["body"], ["trigger", "triggerPrice"], "43500")),
            (conditional, mutate(conditional["expected"]["body"], ["trigger", "triggerPriceType"], "MARK")),
            (bracket, mutate(bracket["expected"]["body"], ["takeProfit", "triggerPrice"], "48000")),
            (bracket, mutate(bracket["expected"]["body"], ["stopLoss", "triggerPriceType"], "LAST")),
        ]
        async with aiohttp.ClientSession() as session:
            for index, (vector, body) in enumerate(variants):
                emu = await vector_emulator(vector, vectors)
                try:
                    async with session.post(emu.base_url + "/api/v1/user/order", json=body,
                                            headers={"X-Api-Key": vectors["account"]["api_key"]}) as response:
                        self.assertEqual(200, response.status, (index, await response.text()))
                finally:
                    await emu.stop()
