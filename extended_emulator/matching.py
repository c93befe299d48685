"""Price-time priority order book for one market."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Dict, List, Optional, Tuple

from .orders import Order

Level = Tuple[Decimal, Decimal]  # (price, qty)


@dataclass(frozen=True)
class Fill:
    maker: Order
    qty: Decimal
    price: Decimal


def crosses(taker: Order, maker_price: Decimal) -> bool:
    return maker_price <= taker.price if taker.is_buy else maker_price >= taker.price


class OrderBook:
    def __init__(self, market: str):
        self.market = market
        self._bids: List[Order] = []
        self._asks: List[Order] = []
        self._by_id: Dict[int, Order] = {}

    def _side(self, is_buy: bool) -> List[Order]:
        return self._bids if is_buy else self._asks

    def add(self, order: Order) -> None:
        side = self._side(order.is_buy)
        side.append(order)
        if order.is_buy:
            side.sort(key=lambda o: (-o.price, o.sequence))
        else:
            side.sort(key=lambda o: (o.price, o.sequence))
        self._by_id[order.id] = order

    def remove(self, order: Order) -> bool:
        if self._by_id.pop(order.id, None) is None:
            return False
        self._side(order.is_buy).remove(order)
        return True

    def contains(self, order: Order) -> bool:
        return order.id in self._by_id

    def opposite(self, taker: Order) -> List[Order]:
        """Resting orders the taker could trade with, best first."""
        return [o for o in self._side(not taker.is_buy) if crosses(taker, o.price)]

    def would_cross(self, order: Order) -> bool:
        return bool(self.opposite(order))

    def fillable_qty(self, taker: Order, allowed: Callable[[Order], bool]) -> Decimal:
        return sum((o.remaining for o in self.opposite(taker) if allowed(o)), Decimal(0))

    def best(self, is_buy: bool) -> Optional[Decimal]:
        side = self._side(is_buy)
        return side[0].price if side else None

    def levels(self, is_buy: bool) -> List[Level]:
        aggregated: Dict[Decimal, Decimal] = {}
        for order in self._side(is_buy):
            aggregated[order.price] = aggregated.get(order.price, Decimal(0)) + order.remaining
        return list(aggregated.items())

    def orders(self) -> List[Order]:
        return list(self._by_id.values())
