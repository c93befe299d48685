#!/usr/bin/env python
"""Cross-check of the order signer against the official SDK on random orders (not a test: it needs the SDK).

For each random order (both networks, random markets: l2Config ids and resolutions, size step, tick; BUY / SELL,
LIMIT GTT / MARKET IOC, post-only and reduce-only, fee rates, expiry, nonce; some CONDITIONAL, some with TP/SL
legs) the POST body is built here by the connector's ``OrderSigner`` (the path every LIMIT / MARKET order takes)
and by the reference ``build_order_body`` (every order), and in its own venv at /tmp/sdk-venv by the official SDK
(x10-python-trading-starknet: ``create_order_object`` + ``to_api_request_json``; never imported here). Every body
must equal the SDK's, field for field, and every signature in it (the order's, its legs') must verify with
``fast_stark_crypto.verify`` against the hash recomputed from the body alone. Prints the count of equal bodies per
network and kind, and every difference; exits 1 on any difference, 2 when the SDK venv is missing.

    .venv/bin/python scripts/crosscheck_sdk.py [--orders 400] [--seed 1]
"""
import argparse
import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Tuple

from fast_stark_crypto import verify

from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_signer import (
    SN_MAIN,
    SN_SEPOLIA,
    ConditionalTrigger,
    OrderSigner,
    SettlementAmounts,
    SigningMarket,
    StarkAccount,
    TpSlLeg,
    build_order_body,
    order_message_hash,
    settlement_expiration_seconds,
)

SDK_PYTHON = Path("/tmp/sdk-venv/bin/python")
# Public test key pair of the SDK's own test suite (sdk_vectors.json); not a real account.
PRIVATE_KEY = "0x7a7ff6fd3cab02ccdcd4a572563f5976f8976899b03a39773795a3c486d4986"
PUBLIC_KEY = "0x61c5e7e8339b7d56f197f54ea91b776776690e3232313de0f2ecbd0ef76f466"
DOMAINS = {"SN_MAIN": SN_MAIN, "SN_SEPOLIA": SN_SEPOLIA}
NOW_MS = 1_767_225_600_000  # 2026-01-01, the "now" the expiries are drawn from

SDK_BUILD = r"""
import json, sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from x10.config import StarknetDomain
from x10.core.stark_account import StarkPerpetualAccount
from x10.models.market import MarketModel
from x10.models.order import (OrderPriceType, OrderSide, OrderTpslType, OrderTriggerDirection,
                              OrderTriggerPriceType, OrderType, TimeInForce)
from x10.signing.order_object import create_order_object, OrderConditionalTriggerParam, OrderTpslTriggerParam
def leg(fields):
    return fields and OrderTpslTriggerParam(
        trigger_price=Decimal(fields["trigger_price"]), price=Decimal(fields["price"]),
        trigger_price_type=OrderTriggerPriceType(fields["trigger_price_type"]),
        price_type=OrderPriceType(fields["price_type"]))
def trigger(fields):
    return fields and OrderConditionalTriggerParam(
        trigger_price=Decimal(fields["trigger_price"]),
        trigger_price_type=OrderTriggerPriceType(fields["trigger_price_type"]),
        direction=OrderTriggerDirection(fields["direction"]),
        execution_price_type=OrderPriceType(fields["execution_price_type"]))
stats = {k: "0" for k in ("dailyVolume", "dailyVolumeBase", "dailyPriceChange", "dailyLow", "dailyHigh",
         "lastPrice", "askPrice", "bidPrice", "markPrice", "indexPrice", "fundingRate", "openInterest",
         "openInterestBase")}
stats["nextFundingRate"] = 0
bodies = []
for case in json.load(sys.stdin):
    m = case["market"]
    trading = dict(m["tradingConfig"], maxMarketOrderValue="1000000", maxLimitOrderValue="1000000",
                   maxLeverage="50", maxNumOrders=200, limitPriceCap="0.05", limitPriceFloor="0.05",
                   riskFactorConfig=[])
    market = MarketModel.model_validate(dict(name=m["name"], type="PERPETUAL", assetName="X", assetPrecision=5,
        collateralAssetName="USD", collateralAssetPrecision=6, active=True, isRfq=False, isOffHours=False,
        tradingHours="CONTINUOUS", marketStats=stats, tradingConfig=trading, l2Config=m["l2Config"]))
    account = StarkPerpetualAccount(vault=case["vault"], private_key=case["private_key"],
                                    public_key=case["public_key"], api_key="x")
    domain = StarknetDomain(name="Perpetuals", version="v0", chain_id=case["chain_id"], revision="1")
    expire = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=case["expiry_ms"])
    order = create_order_object(
        account=account, market=market, amount_of_synthetic=Decimal(case["qty"]), price=Decimal(case["price"]),
        side=OrderSide(case["side"]), starknet_domain=domain, order_type=OrderType(case["type"]),
        time_in_force=TimeInForce(case["time_in_force"]), post_only=case["post_only"],
        reduce_only=case["reduce_only"], expire_time=expire, order_external_id=case["id"], nonce=case["nonce"],
        taker_fee=Decimal(case["fee_rate"]), trigger=trigger(case["trigger"]),
        tp_sl_type=OrderTpslType.ORDER if case["legs"] else None,
        take_profit=leg((case["legs"] or {}).get("takeProfit")), stop_loss=leg((case["legs"] or {}).get("stopLoss")))
    bodies.append(order.to_api_request_json(exclude_none=True))
print(json.dumps(bodies))
"""


def random_market(rng: random.Random, k: int) -> Dict[str, Any]:
    step = rng.choice(["0.00001", "0.0001", "0.001", "0.01", "0.1", "1", "10", "100"])
    tick = rng.choice(["0.000001", "0.0001", "0.01", "0.1", "0.5", "1", "10"])
    return {"name": f"M{k}-USD",
            "tradingConfig": {"minOrderSize": str(Decimal(step) * rng.randint(1, 20)), "minOrderSizeChange": step,
                              "minPriceChange": tick, "maxPositionValue": "1000000000"},
            "l2Config": {"type": "STARKX", "collateralId": hex(rng.getrandbits(251)),
                         "syntheticId": hex(rng.getrandbits(120)),
                         "syntheticResolution": 10 ** rng.randint(0, 10),
                         "collateralResolution": 10 ** rng.choice([6, 6, 6, 8])}}


def random_case(rng: random.Random, k: int, market: Dict[str, Any]) -> Dict[str, Any]:
    trading = market["tradingConfig"]
    step, tick = Decimal(trading["minOrderSizeChange"]), Decimal(trading["minPriceChange"])
    is_market_order = rng.random() < 0.3
    chain_id = rng.choice(list(DOMAINS))
    max_days = DOMAINS[chain_id].max_expiry_ms
    l2 = market["l2Config"]
    while True:  # amounts within i64, which the signer refuses (and the SDK fails on) otherwise
        qty = Decimal(trading["minOrderSize"]) + step * rng.randint(0, 10 ** rng.randint(0, 6))
        price = tick * rng.randint(1, 10 ** rng.randint(1, 7))
        if max(qty * l2["syntheticResolution"], qty * price * l2["collateralResolution"]) < 2 ** 62:
            break
    kind = rng.choice(["plain"] * 6 + ["conditional", "tp/sl legs"])
    return {"id": f"HBOT-X-{k}", "market": market, "chain_id": chain_id, "side": rng.choice(["BUY", "SELL"]),
            "type": "MARKET" if is_market_order else "CONDITIONAL" if kind == "conditional" else "LIMIT",
            "time_in_force": "IOC" if is_market_order else "GTT",
            "post_only": not is_market_order and kind == "plain" and rng.random() < 0.3,
            "reduce_only": rng.random() < 0.2, "qty": str(qty), "price": str(price),
            "trigger": random_trigger(rng, price, tick) if kind == "conditional" and not is_market_order else None,
            "legs": random_legs(rng, price, tick) if kind == "tp/sl legs" else None,
            "fee_rate": rng.choice(["0", "0.0002", "0.00025", "0.0005", "0.001"]),
            "expiry_ms": NOW_MS + rng.randint(1, max_days), "nonce": rng.randint(1, 2 ** 31),
            "vault": rng.randint(1, 2 ** 32 - 1), "private_key": PRIVATE_KEY, "public_key": PUBLIC_KEY}


def random_trigger(rng: random.Random, price: Decimal, tick: Decimal) -> Dict[str, str]:
    return {"trigger_price": str(price + tick * rng.randint(-int(price / tick) + 1, 1000)),
            "trigger_price_type": rng.choice(["LAST", "MARK", "INDEX"]), "direction": rng.choice(["UP", "DOWN"]),
            "execution_price_type": rng.choice(["LIMIT", "MARKET"])}


def random_legs(rng: random.Random, price: Decimal, tick: Decimal) -> Dict[str, Dict[str, str]]:
    """A take-profit and / or a stop-loss leg (ORDER type), prices on the tick within half the order price."""
    def leg() -> Dict[str, str]:
        leg_price = price + tick * rng.randint(-int(price / tick / 2), int(price / tick / 2))
        return {"trigger_price": str(leg_price), "trigger_price_type": rng.choice(["LAST", "MARK", "INDEX"]),
                "price": str(max(leg_price, tick)), "price_type": "LIMIT"}
    keys = rng.choice([("takeProfit",), ("stopLoss",), ("takeProfit", "stopLoss")])
    return {key: leg() for key in keys}


def our_bodies(case: Dict[str, Any]) -> List[Tuple[str, Dict[str, Any]]]:
    """The connector's signer path (plain orders only) and the reference path, for one case."""
    account = StarkAccount.from_config(case["private_key"], case["public_key"], case["vault"])
    domain, market = DOMAINS[case["chain_id"]], SigningMarket.from_api(case["market"])
    args = dict(external_id=case["id"], side=case["side"], order_type=case["type"], qty=Decimal(case["qty"]),
                price=Decimal(case["price"]), fee_rate=Decimal(case["fee_rate"]), expiry_ms=case["expiry_ms"],
                nonce=case["nonce"], now_ms=NOW_MS, time_in_force=case["time_in_force"],
                post_only=case["post_only"], reduce_only=case["reduce_only"], self_trade_protection="ACCOUNT")
    if case["trigger"] is None and case["legs"] is None:
        return [("OrderSigner", OrderSigner(account, domain, market).order_body(*args.values())),
                ("build_order_body", build_order_body(account, domain, market, **args))]
    trigger = None if case["trigger"] is None else ConditionalTrigger(**_decimals(case["trigger"]))
    legs = {key: TpSlLeg(**_decimals(leg)) for key, leg in (case["legs"] or {}).items()}
    return [("build_order_body", build_order_body(
        account, domain, market, **args, trigger=trigger, tp_sl_type="ORDER" if legs else None,
        take_profit=legs.get("takeProfit"), stop_loss=legs.get("stopLoss")))]


def _decimals(fields: Dict[str, str]) -> Dict[str, Any]:
    return {key: Decimal(value) if key.endswith("price") else value for key, value in fields.items()}


def verifies(case: Dict[str, Any], body: Dict[str, Any]) -> bool:
    """Every signature of the body (the order's, its legs') verifies against the hash recomputed from the body and
    the market's l2Config alone."""
    market = SigningMarket.from_api(case["market"])
    expiration = settlement_expiration_seconds(body["expiryEpochMillis"])
    for signed in [body] + [body[key] for key in ("takeProfit", "stopLoss") if key in body]:
        amounts = SettlementAmounts(*(int(signed["debuggingAmounts"][key])
                                      for key in ("syntheticAmount", "collateralAmount", "feeAmount")))
        settlement = signed["settlement"]
        public_key = int(settlement["starkKey"], 16)
        msg_hash = order_message_hash(DOMAINS[case["chain_id"]], market, amounts, expiration, int(body["nonce"]),
                                      int(settlement["collateralPosition"]), public_key)
        if not verify(public_key, msg_hash, int(settlement["signature"]["r"], 16),
                      int(settlement["signature"]["s"], 16)):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not SDK_PYTHON.exists():
        print(f"{SDK_PYTHON} (a venv with x10-python-trading-starknet) is missing: nothing to compare with")
        return 2
    rng = random.Random(args.seed)
    cases = []
    for k in range(args.orders):
        if k % 10 == 0:  # ten orders per market
            market = random_market(rng, k // 10)
        cases.append(random_case(rng, k, market))
    done = subprocess.run([str(SDK_PYTHON), "-c", SDK_BUILD], input=json.dumps(cases), capture_output=True,
                          text=True, timeout=1200)
    if done.returncode != 0:
        print(f"the SDK failed: {done.stderr.strip().splitlines()[-1:]}")
        return 1
    equal, differences = {}, []
    for case, sdk_body in zip(cases, json.loads(done.stdout)):
        wrong = [(path, body) for path, body in our_bodies(case) if body != sdk_body or not verifies(case, body)]
        differences += [f"{case['id']} ({path}, {case['chain_id']}): ours {body} sdk {sdk_body}"
                        for path, body in wrong]
        kind = (case["chain_id"], "CONDITIONAL" if case["trigger"] else "with TP/SL legs" if case["legs"]
                else case["type"])
        equal[kind] = equal.get(kind, 0) + (not wrong)
    print(f"{len(cases)} random orders; equal to the SDK's body and verified: "
          + ", ".join(f"{chain} {kind} {n}" for (chain, kind), n in sorted(equal.items())))
    for difference in differences:
        print(difference)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
