"""Accounts, positions and the margin arithmetic quoted in the doc's Get balance section."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, List, Mapping, Optional

from .markets import Market
from .orders import Order

ZERO = Decimal(0)
MONEY_STEP = Decimal("0.000001")  # collateral precision: every booked amount is a whole micro-USD
DEFAULT_LEVERAGE = Decimal(10)


def fmt(value: Decimal, places: int = 6) -> str:
    return str(value.quantize(Decimal(1).scaleb(-places)))


def plain(value: Decimal) -> str:
    """Shortest non-exponent decimal string ("97000", "0.5")."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class FeeRates:
    maker: Decimal = Decimal("0.0000")
    taker: Decimal = Decimal("0.00025")


@dataclass
class Position:
    id: int
    market: str
    size: Decimal  # signed: > 0 long, < 0 short
    open_price: Decimal
    created_time: int
    updated_time: int
    realised_pnl: Decimal = ZERO
    max_size: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    closed_time: Optional[int] = None
    exit_type: Optional[str] = None
    long: bool = True

    @property
    def side(self) -> str:
        return "LONG" if self.long else "SHORT"

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        return self.size * (mark - self.open_price)

    def apply_fill(self, signed_qty: Decimal, price: Decimal, now: int) -> Decimal:
        """Update size/entry with a fill that never flips the side; returns realised PnL."""
        realised = ZERO
        if (signed_qty > 0) == self.long:
            total = self.size + signed_qty
            self.open_price = (self.open_price * abs(self.size) + price * abs(signed_qty)) / abs(total)
            self.size = total
        else:
            closed = abs(signed_qty)
            direction = Decimal(1) if self.long else Decimal(-1)
            realised = (closed * (price - self.open_price) * direction).quantize(MONEY_STEP)
            self.exit_qty += closed
            self.exit_value += closed * price
            self.size += signed_qty
        self.realised_pnl += realised
        self.max_size = max(self.max_size, abs(self.size))
        self.updated_time = now
        return realised

    def to_json(self, account_id: int, market: Market, leverage: Decimal) -> dict:
        mark = market.mark_price
        value = abs(self.size) * mark
        margin = value / leverage
        return {
            "id": self.id, "accountId": account_id, "market": self.market, "side": self.side,
            "leverage": str(leverage), "size": str(abs(self.size)), "value": fmt(value),
            "openPrice": plain(self.open_price), "markPrice": str(mark),
            "liquidationPrice": str(self.liquidation_price(leverage)), "margin": fmt(margin),
            "unrealisedPnl": fmt(self.unrealised_pnl(mark)), "realisedPnl": fmt(self.realised_pnl),
            "adl": "0", "maxPositionSize": str(self.max_size),
            "createdTime": self.created_time, "updatedTime": self.updated_time,
        }

    def liquidation_price(self, leverage: Decimal) -> Decimal:
        """Simplified: entry moved against the position by (1/leverage - 1%) of entry."""
        move = max(Decimal(1) / leverage - Decimal("0.01"), ZERO)
        factor = (1 - move) if self.long else (1 + move)
        return (self.open_price * factor).quantize(Decimal("0.01"))

    def history_json(self, account_id: int, leverage: Decimal) -> dict:
        data = {
            "id": self.id, "accountId": account_id, "market": self.market,
            "side": self.side,
            "leverage": str(leverage), "size": str(abs(self.size)), "maxPositionSize": str(self.max_size),
            "openPrice": plain(self.open_price), "realisedPnl": fmt(self.realised_pnl),
            "createdTime": self.created_time,
        }
        if self.exit_qty > 0:
            data["exitPrice"] = plain(self.exit_value / self.exit_qty)
            data["exitType"] = self.exit_type or "TRADE"
        if self.closed_time is not None:
            data["closedTime"] = self.closed_time
        return data


@dataclass
class Account:
    account_id: int
    api_key: Optional[str]
    public_key: int
    vault: int
    balance: Decimal
    fees: FeeRates = field(default_factory=FeeRates)
    client_id: int = 0
    is_market_maker: bool = False
    leverage: Dict[str, Decimal] = field(default_factory=dict)
    positions: Dict[str, Position] = field(default_factory=dict)
    closed_positions: List[Position] = field(default_factory=list)
    orders: Dict[int, Order] = field(default_factory=dict)
    trades: List[dict] = field(default_factory=list)
    funding_payments: List[dict] = field(default_factory=list)
    updated_time: int = 0

    def leverage_for(self, market: str) -> Decimal:
        return self.leverage.get(market, DEFAULT_LEVERAGE)

    def open_orders(self, market: Optional[str] = None) -> List[Order]:
        return [o for o in self.orders.values() if o.is_open and (market is None or o.market == market)]

    def find_by_external_id(self, external_id: str) -> List[Order]:
        return [o for o in self.orders.values() if o.external_id == external_id]


def market_initial_margin(account: Account, market: Market, extra: Optional[Order] = None) -> Decimal:
    """Max(|pos value + buy orders value|, |pos value - sell orders value|) / leverage."""
    position = account.positions.get(market.name)
    position_value = position.size * market.mark_price if position else ZERO
    orders = account.open_orders(market.name) + ([extra] if extra is not None else [])
    buys = sum((o.remaining * o.price for o in orders if o.is_buy), ZERO)
    sells = sum((o.remaining * o.price for o in orders if not o.is_buy), ZERO)
    exposure = max(abs(position_value + buys), abs(position_value - sells))
    return exposure / account.leverage_for(market.name)


def unrealised_pnl(account: Account, markets: Mapping[str, Market]) -> Decimal:
    return sum((p.unrealised_pnl(markets[m].mark_price) for m, p in account.positions.items()), ZERO)


def initial_margin(account: Account, markets: Mapping[str, Market], extra: Optional[Order] = None) -> Decimal:
    names = {o.market for o in account.open_orders()} | set(account.positions)
    if extra is not None:
        names.add(extra.market)
    return sum((market_initial_margin(account, markets[n], extra if extra and extra.market == n else None)
                for n in names), ZERO)


def available_for_trade(account: Account, markets: Mapping[str, Market], extra: Optional[Order] = None) -> Decimal:
    return account.balance + unrealised_pnl(account, markets) - initial_margin(account, markets, extra)


def balance_json(account: Account, markets: Mapping[str, Market], now: int) -> dict:
    upnl = unrealised_pnl(account, markets)
    equity = account.balance + upnl
    im = initial_margin(account, markets)
    exposure = sum((abs(p.size) * markets[m].mark_price for m, p in account.positions.items()), ZERO)
    maintenance = im / 2
    return {
        "collateralName": "USD", "balance": fmt(account.balance), "status": "ACTIVE",
        "equity": fmt(equity), "availableForTrade": fmt(equity - im),
        "availableForWithdrawal": fmt(max(ZERO, account.balance + min(ZERO, upnl) - im)),
        "unrealisedPnl": fmt(upnl), "initialMargin": fmt(im),
        "marginRatio": fmt(maintenance / equity, 4) if equity > 0 else "0",
        "updatedTime": now, "exposure": fmt(exposure),
        "leverage": fmt(exposure / equity, 4) if equity > 0 else "0.0000",
    }
