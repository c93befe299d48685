"""The account's ground truth, in the wire formats (what a connector should end up equal to)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .accounts import Account, balance_json

if TYPE_CHECKING:
    from .exchange import Exchange


def ledger_of(exchange: "Exchange", account: Account) -> dict:
    now = exchange.clock.now_ms()
    return {
        "accountId": account.account_id,
        "balance": balance_json(account, exchange.markets, now),
        "positions": [p.to_json(account.account_id, exchange.markets[m], account.leverage_for(m))
                      for m, p in account.positions.items()],
        "closedPositions": [p.history_json(account.account_id, account.leverage_for(p.market))
                            for p in account.closed_positions],
        "orders": [o.to_json() for o in sorted(account.orders.values(), key=lambda o: o.id)],
        "openOrders": [o.to_json() for o in account.open_orders()],
        "trades": list(account.trades),
        "fundingPayments": list(account.funding_payments),
        "leverage": {m: str(account.leverage_for(m)) for m in exchange.markets},
        "fees": {"maker": str(account.fees.maker), "taker": str(account.fees.taker)},
    }
