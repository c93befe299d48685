"""The main job: a real Hummingbot V2 strategy trading through ExtendedPerpetualDerivative against the local
Extended emulator, with throw-away Stark keys, no credentials and no internet.

It starts the emulator on loopback, points the connector at it (EXTENDED_PERPETUAL_BASE_URL), builds the
connector and loads ``scripts/extended_demo.py`` the way Hummingbot does (``TradingCore``: connector settings,
``load_v2_class``, a headless real-time ``Clock``), lets it trade until it is done (about a minute), pays one
funding while the position is held, then prints a summary and checks it against the emulator's own ledger.
Exit code 0 only when the strategy finished and everything matches.

    python scripts/run_main_job.py [--seed 7] [--pair BTC-USD] [--timeout 120]
"""
import argparse
import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the `scripts` package Hummingbot loads strategies from, and the emulator


from extended_emulator import Emulator  # noqa: E402
from scripts.throwaway_account import ThrowAwayAccount  # noqa: E402
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS  # noqa: E402
from hummingbot import root_path  # noqa: E402
from hummingbot.client.hummingbot_application import HummingbotApplication  # noqa: E402
from hummingbot.core.rate_oracle.rate_oracle import RateOracle  # noqa: E402
from hummingbot.core.rate_oracle.sources.rate_source_base import RateSourceBase  # noqa: E402
from hummingbot.core.trading_core import TradingCore  # noqa: E402

CONNECTOR = CONSTANTS.DEFAULT_DOMAIN
STRATEGY = "extended_demo"
START_BALANCE = Decimal("100000")
DEFAULT_LOG_FILE = REPO_ROOT / "logs" / "main_job.log"


class ConnectorPriceSource(RateSourceBase):
    """Hummingbot's rate oracle priced from the connector's own books: nothing leaves loopback."""

    def __init__(self, core: TradingCore):
        self._core = core

    @property
    def name(self) -> str:
        return "extended_emulator_books"

    async def get_prices(self, quote_token: Optional[str] = None) -> Dict[str, Decimal]:
        prices = {}
        for connector in self._core.connector_manager.connectors.values():
            for pair, book in connector.order_books.items():
                bid, ask = book.get_price(False), book.get_price(True)
                if bid == bid and ask == ask:  # not NaN: the book has both sides
                    prices[pair] = (Decimal(str(bid)) + Decimal(str(ask))) / 2
        return prices


def keep_rate_oracle_on_loopback(core: TradingCore) -> None:
    """V2 strategies start Hummingbot's application singleton, whose client config points the rate oracle at a
    public exchange. Create it first (its config folder included), then price the oracle from our own books."""
    (root_path() / "conf").mkdir(exist_ok=True)
    HummingbotApplication.main_application()
    RateOracle.get_instance().source = ConnectorPriceSource(core)


@dataclass(frozen=True)
class Comparison:
    what: str
    connector: str
    emulator: str

    @property
    def matches(self) -> bool:
        return self.connector == self.emulator


def configure_logging(log_file: Path) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_file, mode="w")
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = logging.StreamHandler(sys.stdout)
    console.setLevel(logging.INFO)
    console.addFilter(lambda record: record.name.startswith(("scripts.", "main_job"))
                      or record.levelno >= logging.ERROR)
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[file_handler, console], force=True)


async def trade(core: TradingCore, emulator: Emulator, timeout: float) -> object:
    """Run the strategy until it finishes; pay funding once while it holds its position."""
    log = logging.getLogger("main_job")
    strategy, funding_paid, deadline = core.strategy, False, time.monotonic() + timeout
    while not strategy.finished and time.monotonic() < deadline:
        if strategy.step == 4 and not strategy.pending_order_ids and not funding_paid:
            payments = emulator.run_funding()
            funding_paid = True
            log.info(f"emulator: funding applied ({len(payments) if payments else 0} payment(s))")
        await asyncio.sleep(0.5)
    return strategy


def compare_with_ledger(strategy, connector, ledger: dict) -> List[Comparison]:
    trades = ledger["trades"]
    orders_by_external_id = {order["externalId"]: order for order in ledger["orders"]}
    our_order_ids = sorted({fill.order_id for fill in strategy.fills} | set(strategy.resting_order_ids))
    comparisons = [Comparison(f"order {strategy.order_kinds.get(oid, oid)}", strategy.final_status.get(oid, "OPEN"),
                              orders_by_external_id.get(oid, {}).get("status", "MISSING"))
                   for oid in our_order_ids]
    fee_total = sum((fill.trade_fee.flat_fees[0].amount for fill in strategy.fills if fill.trade_fee.flat_fees),
                    Decimal(0))
    position = sum((p.amount for p in connector.account_positions.values()), Decimal(0))
    ledger_position = sum((Decimal(p["size"]) * (1 if p["side"] == "LONG" else -1) for p in ledger["positions"]),
                          Decimal(0))
    funding = sum((event.amount for event in strategy.funding_payments), Decimal(0))
    ledger_funding = -sum((Decimal(p["fundingFee"]) for p in ledger["fundingPayments"]), Decimal(0))
    return comparisons + [
        Comparison("fills", str(len(strategy.fills)), str(len(trades))),
        Comparison("fees paid (USD)", _fmt(fee_total), _fmt(sum((Decimal(t["fee"]) for t in trades), Decimal(0)))),
        Comparison("position held, then closed", f"{_fmt(strategy.peak_position)} -> {_fmt(position)}",
                   f"{_fmt(strategy.peak_position)} -> {_fmt(ledger_position)}"),
        Comparison("funding payments", f"{len(strategy.funding_payments)} / {_fmt(funding)}",
                   f"{len(ledger['fundingPayments'])} / {_fmt(ledger_funding)}"),
        Comparison("balance: equity (USD)", _fmt(connector.get_balance("USD")),
                   _fmt(Decimal(ledger["balance"]["equity"]))),
        Comparison("balance: available (USD)", _fmt(connector.get_available_balance("USD")),
                   _fmt(Decimal(ledger["balance"]["availableForTrade"]))),
    ]


def _fmt(value) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.000001')):f}"


def print_summary(strategy, comparisons: List[Comparison]) -> bool:
    print("\n=== Extended main job: what the connector saw, checked against the emulator's ledger ===")
    width = max(len(c.what) for c in comparisons)
    for comparison in comparisons:
        mark = "ok  " if comparison.matches else "DIFF"
        print(f"{mark} {comparison.what:<{width}}  connector: {comparison.connector}")
        if not comparison.matches:
            print(f"     {'':<{width}}  emulator:  {comparison.emulator}")
    all_match = all(c.matches for c in comparisons)
    print(f"strategy finished: {'yes' if strategy.finished else 'NO'}; "
          f"failed orders: {len(strategy.failures)}; matches the emulator's ledger: {'yes' if all_match else 'NO'}")
    return all_match and strategy.finished and not strategy.failures


async def run(seed: int, pair: str, timeout: float) -> int:
    emulator = Emulator(seed=seed, network="mainnet", mm_interval=1.0)
    base_url = await emulator.start(host="127.0.0.1", port=0)
    account = ThrowAwayAccount.generate()
    emulator.add_account(api_key=account.api_key, stark_public_key=account.public_key, vault=account.vault,
                         balance=START_BALANCE)
    os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = base_url
    logging.getLogger("main_job").info(f"emulator listening on {base_url}; throw-away account created")
    core = TradingCore({}, scripts_path=REPO_ROOT / "scripts")
    keep_rate_oracle_on_loopback(core)
    try:
        await core.create_connector(CONNECTOR, [pair], True, account.connector_keys())
        started = await core.start_strategy(STRATEGY, {"trading_pair": pair, "connector_name": CONNECTOR})
        if not started:
            print("the strategy did not start; see the log file")
            return 1
        strategy = await trade(core, emulator, timeout)
        connector = core.connector_manager.connectors[CONNECTOR]
        await asyncio.sleep(1.0)  # let the last stream messages land before comparing
        ok = print_summary(strategy, compare_with_ledger(strategy, connector, emulator.ledger(account.api_key)))
        return 0 if ok else 1
    finally:
        await shutdown(core)
        await emulator.stop()


async def shutdown(core: TradingCore) -> None:
    if core.strategy is not None:
        await core.stop_strategy()
    await core.stop_clock()
    for connector in core.connector_manager.connectors.values():
        await connector.stop_network()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="the emulator's seed (its liquidity and timing)")
    parser.add_argument("--pair", default="BTC-USD")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up")
    parser.add_argument("--log-file", type=Path, default=DEFAULT_LOG_FILE, help="the full log (Hummingbot's too)")
    args = parser.parse_args(argv)
    configure_logging(args.log_file)
    return asyncio.run(run(args.seed, args.pair, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
