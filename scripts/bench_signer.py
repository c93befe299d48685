#!/usr/bin/env python
"""Benchmark of the Extended order signer (not a test: prints numbers, asserts nothing about time).

Compares, in one run, the full path from Hummingbot-style inputs (Decimal qty/price, side) to the
POST body dict (``build_order_body``) with the bare ``get_order_msg_hash`` + ``sign`` on the same
inputs (raw gets its settlement ints precomputed). Every order runs through both paths, which of
the two goes first alternating; the median over rounds is reported as us/order, with the median
of per-round ratios.
If /tmp/sdk-venv holds the official SDK (x10-python-trading-starknet), its order build is timed
in a subprocess with that venv's python (optional; the SDK is never imported here).

    .venv/bin/python scripts/bench_signer.py [--iterations 300] [--rounds 7]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from fast_stark_crypto import get_order_msg_hash, sign

from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_signer import (
    SN_MAIN,
    SigningMarket,
    StarkAccount,
    build_order_body,
)

# Public test key pair of the SDK's own test suite (sdk_vectors.json); not a real account.
PRIVATE_KEY = "0x7a7ff6fd3cab02ccdcd4a572563f5976f8976899b03a39773795a3c486d4986"
PUBLIC_KEY = "0x61c5e7e8339b7d56f197f54ea91b776776690e3232313de0f2ecbd0ef76f466"
VAULT = 10002
MARKET_JSON = {
    "name": "BTC-USD",
    "tradingConfig": {"minOrderSize": "0.0001", "minOrderSizeChange": "0.00001", "minPriceChange": "0.1",
                      "maxPositionValue": "10000000"},
    "l2Config": {"type": "STARKX", "collateralId": "0x31857064564ed0ff978e687456963cba09c2c6985d8f9300a1de4962fafa054",
                 "syntheticId": "0x4254432d3600000000000000000000", "syntheticResolution": 1000000,
                 "collateralResolution": 1000000},
}
NOW_MS = 1_704_416_936_860
EXPIRY_MS = NOW_MS + 3_600_000
SDK_PYTHON = Path("/tmp/sdk-venv/bin/python")


def order_inputs(i: int):
    """Hummingbot-style inputs that differ per order (qty, price, nonce), alternating sides."""
    side = "BUY" if i % 2 == 0 else "SELL"
    return side, Decimal("0.001") + Decimal(i % 50) * Decimal("0.00001"), Decimal("43445.1") + Decimal(i % 97), 1 + i


def raw_amounts(side: str, qty: Decimal, price: Decimal, nonce: int):
    """Settlement ints for the raw path, computed outside the timed region (raw gets them for free)."""
    synthetic = int(qty * 1000000)
    collateral = int((qty * price * 1000000).to_integral_value("ROUND_UP" if side == "BUY" else "ROUND_DOWN"))
    fee = int((Decimal("0.0005") * qty * price * 1000000).to_integral_value("ROUND_UP"))
    return (synthetic, -collateral, fee, nonce) if side == "BUY" else (-synthetic, collateral, fee, nonce)


def one_round(account, market, inputs, raw_inputs):
    """Ours and raw on every order, alternating which goes first; returns (ours, raw) mean us/order."""
    fee_rate = Decimal("0.0005")
    private_key, public_key, vault = int(PRIVATE_KEY, 16), int(PUBLIC_KEY, 16), VAULT
    synthetic_id, collateral_id = market.synthetic_id, market.collateral_id
    expiration = -(-(EXPIRY_MS + 14 * 86_400_000) // 1000)
    clock, spent = time.perf_counter, {"ours": 0.0, "raw": 0.0}

    def ours(i, side, qty, price, nonce):
        build_order_body(account, SN_MAIN, market, external_id=f"HBOT-{i}", side=side, order_type="LIMIT",
                         qty=qty, price=price, fee_rate=fee_rate, expiry_ms=EXPIRY_MS, nonce=nonce, now_ms=NOW_MS)

    def raw(i, side, qty, price, nonce):
        synthetic, collateral, fee, _ = raw_inputs[i]
        msg_hash = get_order_msg_hash(vault, synthetic_id, synthetic, collateral_id, collateral, collateral_id, fee,
                                      expiration, nonce, public_key, "Perpetuals", "v0", "SN_MAIN", "1")
        sign(private_key, msg_hash)

    for i, order in enumerate(inputs):
        for name, path in ((("ours", ours), ("raw", raw)) if i % 2 == 0 else (("raw", raw), ("ours", ours))):
            start = clock()
            path(i, *order)
            spent[name] += clock() - start
    return spent["ours"] / len(inputs) * 1e6, spent["raw"] / len(inputs) * 1e6


SDK_BENCH = r"""
import json, statistics, sys, time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from x10.config import StarknetDomain
from x10.core.stark_account import StarkPerpetualAccount
from x10.models.market import MarketModel
from x10.models.order import OrderSide
from x10.signing.order_object import create_order_object
args = json.loads(sys.argv[1])
stats = {k: "0" for k in ("dailyVolume", "dailyVolumeBase", "dailyPriceChange", "dailyLow", "dailyHigh",
         "lastPrice", "askPrice", "bidPrice", "markPrice", "indexPrice", "fundingRate", "openInterest",
         "openInterestBase")}
stats["nextFundingRate"] = 0
trading = dict(args["market"]["tradingConfig"], maxMarketOrderValue="1000000", maxLimitOrderValue="1000000",
               maxLeverage="50", maxNumOrders=200, limitPriceCap="0.05", limitPriceFloor="0.05",
               riskFactorConfig=[])
market = MarketModel.model_validate(dict(name="BTC-USD", type="PERPETUAL", assetName="BTC", assetPrecision=5,
    collateralAssetName="USD", collateralAssetPrecision=6, active=True, isRfq=False, isOffHours=False,
    tradingHours="CONTINUOUS", marketStats=stats, tradingConfig=trading, l2Config=args["market"]["l2Config"]))
account = StarkPerpetualAccount(vault=args["vault"], private_key=args["private_key"],
                                public_key=args["public_key"], api_key="x")
domain = StarknetDomain(name="Perpetuals", version="v0", chain_id="SN_MAIN", revision="1")
expire = datetime.fromtimestamp(args["expiry_ms"] / 1000, tz=timezone.utc)
def one_round(n):
    start = time.perf_counter()
    for i in range(n):
        side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
        qty = Decimal("0.001") + Decimal(i % 50) * Decimal("0.00001")
        price = Decimal("43445.1") + Decimal(i % 97)
        order = create_order_object(account=account, market=market, amount_of_synthetic=qty, price=price,
                                    side=side, starknet_domain=domain, expire_time=expire,
                                    order_external_id=f"HBOT-{i}", nonce=1 + i, taker_fee=Decimal("0.0005"))
        order.to_api_request_json(exclude_none=True)
    return (time.perf_counter() - start) / n * 1e6
one_round(20)
print(json.dumps(statistics.median(one_round(args["iterations"]) for _ in range(args["rounds"]))))
"""


def time_sdk(iterations: int, rounds: int):
    """Median us/order of the official SDK's order build, or None when /tmp/sdk-venv is absent."""
    if not SDK_PYTHON.exists():
        return None
    args = json.dumps({"market": MARKET_JSON, "vault": VAULT, "private_key": PRIVATE_KEY,
                       "public_key": PUBLIC_KEY, "expiry_ms": EXPIRY_MS, "iterations": iterations,
                       "rounds": rounds})
    done = subprocess.run([str(SDK_PYTHON), "-c", SDK_BENCH, args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        print(f"SDK benchmark failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(done.stdout.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="orders per round and path")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per path (median reported)")
    args = parser.parse_args()
    account = StarkAccount.from_config(PRIVATE_KEY, PUBLIC_KEY, VAULT)
    market = SigningMarket.from_api(MARKET_JSON)
    inputs = [order_inputs(i) for i in range(args.iterations)]
    raw_inputs = [raw_amounts(*order) for order in inputs]
    one_round(account, market, inputs[:20], raw_inputs[:20])  # warm-up
    rounds = [one_round(account, market, inputs, raw_inputs) for _ in range(args.rounds)]
    ours = [o for o, _ in rounds]
    raw = [r for _, r in rounds]
    ours_us, raw_us = statistics.median(ours), statistics.median(raw)
    print(f"iterations/round={args.iterations} rounds={args.rounds} (medians)")
    print(f"ours  build_order_body        : {ours_us:8.1f} us/order")
    print(f"raw   get_order_msg_hash+sign : {raw_us:8.1f} us/order")
    print(f"ratio ours/raw                : {ours_us / raw_us:8.3f} "
          f"(median of per-round ratios {statistics.median(o / r for o, r in rounds):.3f})")
    sdk_us = time_sdk(args.iterations, args.rounds)
    if sdk_us is None:
        print(f"SDK comparison skipped: {SDK_PYTHON} with x10-python-trading-starknet not available")
    else:
        print(f"sdk   create_order_object+json: {sdk_us:8.1f} us/order (separate process)")
        print(f"ratio ours/SDK                : {ours_us / sdk_us:8.3f}")


if __name__ == "__main__":
    main()
