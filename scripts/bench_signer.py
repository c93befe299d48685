#!/usr/bin/env python
"""Benchmark of the Extended order sign path (not a test: prints numbers, asserts nothing about time).

Three paths sign every order:

* connector: ``ExtendedPerpetualDerivative._signed_order_body`` from Hummingbot inputs (order id, pair, Decimal
  amount and price, TradeType, OrderType.LIMIT, PositionAction.OPEN) on a connector built with the config-map
  arguments, its market specs, trading rules and the account's fee rates filled from ``/info/markets`` and
  ``/user/fees`` payloads as at start-up: local limits, open-order count, fee-rate lookup, its real nonce draw
  (OS CSPRNG) and clock, the market's ``OrderSigner``; nothing in it is replaced or wrapped;
* signer: ``build_order_body`` alone (the pure signer, validations included);
* raw: bare ``get_order_msg_hash`` + ``sign``, its settlement ints precomputed outside the timed region.

Every path signs the same amounts for the same order (the connector's own nonce and expiry differ, which does
not change the cost of a hash or a signature). Outside the timed region each connector body is checked: its
amounts are the SDK's for that order and its signature verifies, with ``fast_stark_crypto.verify``, against
the hash recomputed from the body. Each comparison is a pass of its own: connector vs raw, then signer vs raw,
the two paths alternating order by order (which goes first alternating too); a third path run in between would
leave the caches to its own code, an interference that belongs to neither side of the comparison. Reported: the
median over rounds of the mean us/order, the median of per-round ratios, and the median of per-order ratios (the
same order through the path and through raw, back to back: the estimate least moved by a preemption or a
collection landing in one of them), which is the goal line.

Why ours costs more than its Python work: measured in place, the connector's few microseconds of Python run
3-5x slower than in a warm loop, because the 400 us of Rust signing before them evicts the interpreter's code and
data from the L1/L2 caches (``cachegrind`` shows the extra per order as L1 misses, not instructions; see
``--callgrind``). So the path is shaped to touch little: per-market constants precomputed in an ``OrderSigner``,
exact integer amounts instead of Decimal contexts, the body built before the Rust calls, the connector's common
cases inline (each Python call costs microseconds there).

Diagnostics for the gap between ours and raw (``--diagnose``): the same rounds with the garbage collector off
(for all paths alike, collected between rounds), and in blocks (each path runs all the round's orders in a row,
block order rotating per round) instead of interleaved. ``--callgrind`` counts instructions per order of each
path under valgrind (the difference of two runs of N and N + K orders, so set-up cancels out; kernel time, e.g.
the ``getrandom`` system call, is not counted).

If /tmp/sdk-venv holds the official SDK (x10-python-trading-starknet), its order build is timed in a subprocess
with that venv's python (optional; the SDK is never imported here).

    .venv/bin/python scripts/bench_signer.py [--iterations 300] [--rounds 7] [--open-orders 0] [--diagnose]
    .venv/bin/python scripts/bench_signer.py --callgrind
"""
import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Dict, Optional, Tuple

from fast_stark_crypto import get_order_msg_hash, sign, verify

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_account_messages as messages
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
    DAY_MS,
    ExtendedPerpetualDerivative,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_signer import (
    SN_MAIN,
    SigningMarket,
    SettlementAmounts,
    StarkAccount,
    build_order_body,
    order_message_hash,
    settlement_amounts,
    settlement_expiration_seconds,
)
from hummingbot.core.data_type.common import OrderType, PositionAction, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate

# Public test key pair of the SDK's own test suite (sdk_vectors.json); not a real account.
PRIVATE_KEY = "0x7a7ff6fd3cab02ccdcd4a572563f5976f8976899b03a39773795a3c486d4986"
PUBLIC_KEY = "0x61c5e7e8339b7d56f197f54ea91b776776690e3232313de0f2ecbd0ef76f466"
VAULT = 10002
API_KEY = "0123456789abcdef0123456789abcdef"  # not a real key: nothing is sent
MARKET_JSON = {
    "name": "BTC-USD", "assetName": "BTC", "assetPrecision": 5, "collateralAssetName": "USD",
    "collateralAssetPrecision": 6, "active": True, "status": "ACTIVE",
    "marketStats": {"dailyVolume": "1", "dailyVolumeBase": "1", "dailyPriceChangePercentage": "0", "dailyLow": "1",
                    "dailyHigh": "1", "lastPrice": "43445.1", "askPrice": "43445.2", "bidPrice": "43445.1",
                    "markPrice": "43445.1", "indexPrice": "43445.1", "fundingRate": "0.00001",
                    "nextFundingRate": 1704416936, "openInterest": "1", "openInterestBase": "1"},
    "tradingConfig": {"minOrderSize": "0.0001", "minOrderSizeChange": "0.00001", "minPriceChange": "0.1",
                      "maxMarketOrderValue": "10000000", "maxLimitOrderValue": "50000000",
                      "maxPositionValue": "10000000", "maxLeverage": "50", "maxNumOrders": "200",
                      "limitPriceCap": "0.05", "limitPriceFloor": "0.05"},
    "l2Config": {"type": "STARKX", "collateralId": "0x31857064564ed0ff978e687456963cba09c2c6985d8f9300a1de4962fafa054",
                 "syntheticId": "0x4254432d3600000000000000000000", "syntheticResolution": 1000000,
                 "collateralResolution": 1000000},
}
PAIR = "BTC-USD"
NOW_MS = 1_704_416_936_860
SDK_PYTHON = Path("/tmp/sdk-venv/bin/python")
PATHS = ("connector", "signer", "raw")


def build_connector(open_orders: int) -> ExtendedPerpetualDerivative:
    """A connector as Hummingbot builds it from the config map, market caches filled as at start-up."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    connector = ExtendedPerpetualDerivative(
        extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=PRIVATE_KEY,
        extended_perpetual_stark_public_key=PUBLIC_KEY, extended_perpetual_vault_id=str(VAULT),
        trading_pairs=[PAIR], trading_required=True)
    payload = {"status": "OK", "data": [MARKET_JSON]}
    loop = asyncio.get_event_loop()
    connector._initialize_trading_pair_symbols_from_exchange_info(payload)
    rules = loop.run_until_complete(connector._format_trading_rules(payload))
    connector._trading_rules.clear()
    for rule in rules:
        connector._trading_rules[rule.trading_pair] = rule
    # the account's fee rates, as /user/fees answers them at start-up
    connector._fee_rates.update({fees.market: fees for fees in messages.parse_list(
        [{"market": PAIR, "makerFeeRate": "0.0002", "takerFeeRate": "0.0005"}], messages.parse_fees)})
    for k in range(open_orders):  # resting orders of a running strategy, counted against maxNumOrders
        order_id = f"HBOT-OPEN-{k}"
        connector.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=PAIR,
                                       trade_type=TradeType.BUY, price=Decimal("40000"), amount=Decimal("0.001"),
                                       order_type=OrderType.LIMIT, position_action=PositionAction.OPEN)
        connector._order_tracker.process_order_update(OrderUpdate(
            client_order_id=order_id, exchange_order_id=str(1000 + k), trading_pair=PAIR, update_timestamp=1.0,
            new_state=OrderState.OPEN))
    assert all(isinstance(o, InFlightOrder) for o in connector._order_tracker.active_orders.values())
    return connector


def order_inputs(i: int):
    """Hummingbot-style inputs that differ per order (qty, price), alternating sides."""
    side = TradeType.BUY if i % 2 == 0 else TradeType.SELL
    return side, Decimal("0.001") + Decimal(i % 50) * Decimal("0.00001"), Decimal("43445.1") + Decimal(i % 97)


class Bench:
    def __init__(self, iterations: int, open_orders: int):
        self.connector = build_connector(open_orders)
        self.account = StarkAccount.from_config(PRIVATE_KEY, PUBLIC_KEY, VAULT)
        self.market = SigningMarket.from_api(MARKET_JSON)
        self.fee_rate = self.connector._fee_rate(PAIR, is_maker=False)
        self.expiry_ms = NOW_MS + self.connector._expiry_days * DAY_MS
        self.inputs = [order_inputs(i) for i in range(iterations)]
        self.seed = 0

    def prepare_round(self, n: int):
        """Nonces for the signer and raw paths, and raw's precomputed settlement ints."""
        self.seed += 1
        nonces = random.Random(self.seed).sample(range(1, 2 ** 31), n)
        expiration = settlement_expiration_seconds(self.expiry_ms)
        raw = []
        for (side, qty, price), nonce in zip(self.inputs[:n], nonces):
            amounts = settlement_amounts(self.market, side.name, qty, price, self.fee_rate)
            raw.append((amounts.synthetic, amounts.collateral, amounts.fee, expiration, nonce))
        return nonces, raw

    def path_functions(self, nonces, raw_inputs):
        connector, signed_order_body = self.connector, self.connector._signed_order_body
        account, market, fee_rate, expiry_ms = self.account, self.market, self.fee_rate, self.expiry_ms
        limit, open_action = OrderType.LIMIT, PositionAction.OPEN
        private_key, public_key = account.private_key, account.public_key
        synthetic_id, collateral_id = market.synthetic_id, market.collateral_id
        order_ids = [f"HBOT-{self.seed:03d}-{i}" for i in range(len(nonces))]  # Hummingbot makes them, not timed
        inputs = self.inputs
        bodies = {}

        def run_connector(i):
            side, qty, price = inputs[i]
            bodies[i] = signed_order_body(order_ids[i], PAIR, qty, side, limit, price, open_action)

        def run_signer(i):
            side, qty, price = inputs[i]
            build_order_body(account, SN_MAIN, market, external_id=order_ids[i], side=side.name,
                             order_type="LIMIT", qty=qty, price=price, fee_rate=fee_rate, expiry_ms=expiry_ms,
                             nonce=nonces[i], now_ms=NOW_MS)

        def run_raw(i):
            synthetic, collateral, fee, expiration, nonce = raw_inputs[i]
            msg_hash = get_order_msg_hash(VAULT, synthetic_id, synthetic, collateral_id, collateral, collateral_id,
                                          fee, expiration, nonce, public_key, "Perpetuals", "v0", "SN_MAIN", "1")
            sign(private_key, msg_hash)

        del connector
        return {"connector": run_connector, "signer": run_signer, "raw": run_raw}, bodies

    def one_round(self, n: int, paths: Tuple[str, ...], blocks: bool = False, no_gc: bool = False):
        """Mean us/order of each of ``paths``; interleaved per order (rotating order) or in rotating blocks."""
        nonces, raw_inputs = self.prepare_round(n)
        functions, bodies = self.path_functions(nonces, raw_inputs)
        clock, spent = time.perf_counter, dict.fromkeys(paths, 0.0)
        per_order = {name: [] for name in paths}
        rotations = [paths[k:] + paths[:k] for k in range(len(paths))]
        if no_gc:
            gc.collect()
            gc.disable()
        try:
            if blocks:
                for name in rotations[self.seed % len(rotations)]:
                    function = functions[name]
                    start = clock()
                    for i in range(n):
                        function(i)
                    spent[name] += clock() - start
            else:
                for i in range(n):
                    for name in rotations[i % len(rotations)]:
                        function = functions[name]
                        start = clock()
                        function(i)
                        elapsed = clock() - start
                        spent[name] += elapsed
                        per_order[name].append(elapsed)
        finally:
            if no_gc:
                gc.enable()
        self.check_connector_bodies(bodies, raw_inputs)
        result = {name: spent[name] / n * 1e6 for name in paths}
        # the same order through each path, back to back: robust to a preemption or a collection in one of them
        result["per_order_ratios"] = {name: [t / raw for t, raw in zip(per_order[name], per_order["raw"])]
                                      for name in paths}
        return result

    def check_connector_bodies(self, bodies, raw_inputs):
        """Outside the timed region: the connector signed the amounts raw signed, and its signature verifies
        against the hash recomputed from the body."""
        for i, body in bodies.items():
            synthetic, collateral, fee, _, _ = raw_inputs[i]
            amounts = SettlementAmounts(*(int(body["debuggingAmounts"][key])
                                          for key in ("syntheticAmount", "collateralAmount", "feeAmount")))
            assert amounts == (synthetic, collateral, fee), body
            msg_hash = order_message_hash(SN_MAIN, self.market, amounts,
                                          settlement_expiration_seconds(body["expiryEpochMillis"]),
                                          int(body["nonce"]), VAULT, self.account.public_key)
            signature = body["settlement"]["signature"]
            assert verify(self.account.public_key, msg_hash, int(signature["r"], 16), int(signature["s"], 16)), body
        bodies.clear()

    def run(self, rounds: int, paths: Tuple[str, ...], **mode):
        self.one_round(min(20, len(self.inputs)), paths, **mode)  # warm-up
        return [self.one_round(len(self.inputs), paths, **mode) for _ in range(rounds)]


LABELS = {"connector": "connector _signed_order_body   ", "signer": "signer    build_order_body     "}


def report(title: str, results, name: str) -> float:
    """``name`` vs raw over the rounds of one pass; returns ``name``'s median us/order."""
    medians = {path: statistics.median(r[path] for r in results) for path in (name, "raw")}
    print(f"-- {title}")
    print(f"   {LABELS[name]}: {medians[name]:8.1f} us/order")
    print(f"   raw       get_order_msg_hash+sign: {medians['raw']:8.1f} us/order")
    pairs = [ratio for r in results for ratio in r["per_order_ratios"][name]]
    per_order = f"; median of per-order ratios {statistics.median(pairs):.3f}" if pairs else ""
    print(f"   ratio {name}/raw: {medians[name] / medians['raw']:.3f} "
          f"(median of per-round ratios {statistics.median(r[name] / r['raw'] for r in results):.3f}{per_order})")
    return medians[name]


def headline(results):
    """The goal line: connector / raw as the median of per-order ratios (each order through both paths back to
    back), the estimate a preemption or a collection in one round moves least; the others are printed above."""
    pairs = [ratio for r in results for ratio in r["per_order_ratios"]["connector"]]
    print(f"connector full sign path / raw hash+sign: {statistics.median(pairs):.3f}x (goal <= 1.05x; median of "
          f"{len(pairs)} per-order ratios)")


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
from fast_stark_crypto import get_order_msg_hash, sign
private_key, public_key = int(args["private_key"], 16), int(args["public_key"], 16)
l2 = args["market"]["l2Config"]
synthetic_id, collateral_id = int(l2["syntheticId"], 16), int(l2["collateralId"], 16)
def sdk(i):
    side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
    qty = Decimal("0.001") + Decimal(i % 50) * Decimal("0.00001")
    price = Decimal("43445.1") + Decimal(i % 97)
    order = create_order_object(account=account, market=market, amount_of_synthetic=qty, price=price,
                                side=side, starknet_domain=domain, expire_time=expire,
                                order_external_id=f"HBOT-{i}", nonce=1 + i, taker_fee=Decimal("0.0005"))
    order.to_api_request_json(exclude_none=True)
def raw(i):
    msg_hash = get_order_msg_hash(args["vault"], synthetic_id, 1000 + i % 50, collateral_id, -43445100 - i,
                                  collateral_id, 21723, 1705626536, 1 + i, public_key, "Perpetuals", "v0",
                                  "SN_MAIN", "1")
    sign(private_key, msg_hash)
def one_round(n):
    spent, ratios = {"sdk": 0.0, "raw": 0.0}, []
    for i in range(n):
        times = {}
        for name, function in ((("sdk", sdk), ("raw", raw)) if i % 2 == 0 else (("raw", raw), ("sdk", sdk))):
            start = time.perf_counter()
            function(i)
            times[name] = time.perf_counter() - start
            spent[name] += times[name]
        ratios.append(times["sdk"] / times["raw"])
    return spent["sdk"] / n * 1e6, ratios
one_round(20)
rounds = [one_round(args["iterations"]) for _ in range(args["rounds"])]
print(json.dumps({"sdk_us": statistics.median(us for us, _ in rounds),
                  "sdk_per_order_ratio": statistics.median(r for _, ratios in rounds for r in ratios)}))
"""


def time_sdk(iterations: int, rounds: int) -> Optional[Dict[str, float]]:
    """The official SDK's order build, in a process of its own, against raw hash+sign in that same process (the
    two alternating order by order, as ours against raw here): its median us/order and its median per-order
    ratio to raw. None when /tmp/sdk-venv is absent."""
    if not SDK_PYTHON.exists():
        return None
    trading = {k: MARKET_JSON["tradingConfig"][k]
               for k in ("minOrderSize", "minOrderSizeChange", "minPriceChange", "maxPositionValue")}
    args = json.dumps({"market": {"tradingConfig": trading, "l2Config": MARKET_JSON["l2Config"]}, "vault": VAULT,
                       "private_key": PRIVATE_KEY, "public_key": PUBLIC_KEY, "expiry_ms": NOW_MS + 3_600_000,
                       "iterations": iterations, "rounds": rounds})
    done = subprocess.run([str(SDK_PYTHON), "-c", SDK_BENCH, args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        print(f"SDK benchmark failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip())


def single_path(path: str, n: int):
    """Set-up, then n orders of one path only (``--callgrind`` runs this under valgrind).

    The collector is off during the orders: a collection scans the whole heap (Hummingbot's included), so the
    order that happens to trigger one would carry millions of instructions; the timed diagnostics show its cost.
    """
    bench = Bench(max(n, 1), open_orders=0)
    nonces, raw_inputs = bench.prepare_round(n)
    function = bench.path_functions(nonces, raw_inputs)[0][path]
    gc.collect()
    gc.disable()
    for i in range(n):
        function(i)


def callgrind(base: int, extra: int):
    """Instructions per order of each path: Ir(base + extra orders) - Ir(base orders), divided by extra.

    Separate processes: the raw path's count moves by up to ~2% from one set-up to another (allocator state),
    so only differences larger than that mean something.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind not available: --callgrind skipped")
        return
    per_order = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in PATHS:
            totals = []
            for n in (base, base + extra):
                out = Path(tmp) / f"{path}-{n}.out"
                done = subprocess.run([valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                                       __file__, "--single", path, "--iterations", str(n)],
                                      capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
                line = [x for x in done.stderr.splitlines() if "Collected :" in x]
                if done.returncode != 0 or not line:
                    print(f"callgrind run failed: {done.stderr.strip().splitlines()[-1:]}")
                    return
                totals.append(int(line[-1].split()[-1]))
            per_order[path] = (totals[1] - totals[0]) / extra
    print(f"-- callgrind instructions per order (difference of {base} and {base + extra} orders, gc off)")
    for path in PATHS:
        print(f"   {path:9s}: {per_order[path]:12,.0f} Ir   ratio to raw {per_order[path] / per_order['raw']:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="orders per round and path")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (median reported)")
    parser.add_argument("--open-orders", type=int, default=0, help="open orders tracked by the connector")
    parser.add_argument("--diagnose", action="store_true", help="also time with gc off, and in blocks")
    parser.add_argument("--callgrind", action="store_true", help="count instructions per order under valgrind")
    parser.add_argument("--single", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        single_path(args.single, args.iterations)
        return
    if args.callgrind:
        callgrind(base=20, extra=100)
        return
    bench = Bench(args.iterations, args.open_orders)
    print(f"iterations/round={args.iterations} rounds={args.rounds} open orders={args.open_orders} (medians)")
    connector_results = bench.run(args.rounds, ("connector", "raw"))
    signer_results = bench.run(args.rounds, ("signer", "raw"))
    us = {"connector": report("connector vs raw, interleaved per order, gc on", connector_results, "connector"),
          "signer": report("signer alone vs raw, interleaved per order, gc on", signer_results, "signer")}
    if args.diagnose:
        for title, mode in (("interleaved per order, gc off during the rounds", dict(no_gc=True)),
                            ("blocks (rotating block order), gc on", dict(blocks=True)),
                            ("blocks, gc off", dict(blocks=True, no_gc=True))):
            for name in ("connector", "signer"):
                report(f"{name} vs raw, {title}", bench.run(args.rounds, (name, "raw"), **mode), name)
    sdk = time_sdk(args.iterations, args.rounds)
    if sdk is None:
        print(f"SDK comparison skipped: {SDK_PYTHON} with x10-python-trading-starknet not available")
    else:
        ours = statistics.median(r for result in connector_results for r in result["per_order_ratios"]["connector"])
        print(f"-- sdk create_order_object+json: {sdk['sdk_us']:8.1f} us/order (its own process); median of "
              f"per-order ratios to raw hash+sign in that process {sdk['sdk_per_order_ratio']:.3f}")
        print(f"   connector/SDK, as the ratio of the two per-order ratios to raw: "
              f"{ours / sdk['sdk_per_order_ratio']:.3f} (goal <= 1.0); "
              f"as us/order: {us['connector'] / sdk['sdk_us']:.3f}")
    headline(connector_results)


if __name__ == "__main__":
    main()
