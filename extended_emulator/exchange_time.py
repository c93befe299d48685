"""Mark/index prices, hourly funding, order expiry and the dead man's switch (mixin of Exchange)."""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, List

from .accounts import fmt

if TYPE_CHECKING:
    from .exchange import Exchange

log = logging.getLogger(__name__)
HOUR_MS = 3_600_000
MAX_FUNDING_CATCH_UP = 24 * 366


class PricesFundingAndTime:
    def set_mark_price(self: "Exchange", market: str, price: Decimal) -> None:
        target = self.markets[market]
        target.mark_price = Decimal(price)
        now = self.clock.now_ms()
        self.record_price(market, "mark-prices", target.mark_price)
        self.sink.public_message("prices/mark", market, {
            "type": "MP", "data": {"m": market, "p": str(target.mark_price), "ts": now},
            "ts": now, "sourceEventId": None})
        for account in self.accounts.values():
            if market in account.positions:
                self.emit_position(account, market)
                self.emit_balance(account)
        self.request_trigger_check(market)

    def set_index_price(self: "Exchange", market: str, price: Decimal) -> None:
        target = self.markets[market]
        target.index_price = Decimal(price)
        now = self.clock.now_ms()
        self.record_price(market, "index-prices", target.index_price)
        self.sink.public_message("prices/index", market, {
            "type": "IP", "data": {"m": market, "p": str(target.index_price), "ts": now},
            "ts": now, "sourceEventId": None})
        self.request_trigger_check(market)

    def record_price(self: "Exchange", market: str, candle_type: str, price: Decimal) -> None:
        self.candles.add(market, candle_type, self.clock.now_ms(), price)
        self.sink.candle_changed(market, candle_type)

    def on_clock_moved(self: "Exchange", old_ms: int, new_ms: int) -> None:
        if new_ms <= old_ms:
            return
        first_hour = old_ms // HOUR_MS + 1
        last_hour = new_ms // HOUR_MS
        hours = range(max(first_hour, last_hour - MAX_FUNDING_CATCH_UP + 1), last_hour + 1)
        for hour in hours:
            self.run_funding(hour * HOUR_MS)
        self.expire_orders(new_ms)
        self.fire_dead_man_switches(new_ms)

    def run_funding(self: "Exchange", paid_time: int = None) -> List[dict]:
        """Apply one funding payment per open position; longs pay ``size*mark*rate`` when rate > 0."""
        paid_time = self.clock.now_ms() if paid_time is None else paid_time
        payments = []
        for market in self.markets.values():
            record = {"m": market.name, "T": paid_time, "f": str(market.funding_rate)}
            self.funding_history[market.name].append(record)
            self.sink.public_message("funding", market.name, {"ts": paid_time, "data": record})
            self._record_open_interest(market.name, paid_time)
            for account in self.accounts.values():
                if market.name in account.positions and not account.is_market_maker:
                    payments.append(self._pay_funding(account, market, paid_time))
        return payments

    def _pay_funding(self: "Exchange", account, market, paid_time: int) -> dict:
        position = account.positions[market.name]
        value = position.size * market.mark_price
        paid = (value * market.funding_rate).quantize(Decimal("0.000001"))
        account.balance -= paid
        reported = paid if self.funding_fee_paid_positive else -paid
        payment = {"id": self.next_id("funding"), "accountId": account.account_id, "market": market.name,
                   "positionId": position.id, "side": position.side, "size": str(abs(position.size)),
                   "value": fmt(abs(value)), "markPrice": str(market.mark_price), "fundingFee": fmt(reported),
                   "fundingRate": str(market.funding_rate), "paidTime": paid_time}
        account.funding_payments.append(payment)
        self.emit_balance(account)
        return payment

    def _record_open_interest(self: "Exchange", market: str, ts: int) -> None:
        base = sum((p.size for a in self.accounts.values() for m, p in a.positions.items()
                    if m == market and p.long), Decimal(0))
        usd = base * self.markets[market].mark_price
        self.open_interest_history[market].append({"i": fmt(usd), "I": str(base), "t": ts})

    def expire_orders(self: "Exchange", now: int) -> None:
        for account in self.accounts.values():
            for order in account.open_orders():
                if order.expire_time <= now:
                    self._finish(order, "EXPIRED", None)
                    self.publish_book(order.market)

    def fire_dead_man_switches(self: "Exchange", now: int) -> None:
        for account_id, deadline in list(self.dead_man_deadlines.items()):
            if deadline <= now:
                del self.dead_man_deadlines[account_id]
                account = self.accounts[account_id]
                log.info("dead man's switch fired for account %s", account_id)
                for order in account.open_orders():
                    self._cancel_now(order)
