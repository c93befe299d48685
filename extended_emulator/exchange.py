"""Exchange core: accounts, order lifecycle, matching, fills, funding, expiry.

Everything here is synchronous; stream messages go to an ``EventSink``.
REST accepts an order after ``validation.validate_order``; the matching step
then runs on the next loop iteration (``schedule``), as the doc describes
order processing as asynchronous.
"""
from __future__ import annotations

import logging
import random
from decimal import ROUND_UP, Decimal
from typing import Callable, Dict, List, Optional, Set, Tuple

from . import errors
from .accounts import Account, FeeRates, Position, balance_json, fmt
from .candles import CandleStore
from .clock import Clock
from .errors import ApiError
from .events import EventSink, NullSink
from .exchange_time import PricesFundingAndTime
from .markets import Market, default_markets
from .matching import Fill, OrderBook
from .orders import Order, OrderRequest, parse_order_body
from .signing import CHAIN_IDS
from .trigger_engine import TriggerEngine
from .validation import validate_order

log = logging.getLogger(__name__)
ZERO = Decimal(0)
COLLATERAL_STEP = Decimal("0.000001")
HOUR_MS = 3_600_000
ORDER_ID_BASE = 1_790_000_000_000_000_000
TRADE_ID_BASE = 1_840_000_000_000_000_000
Scheduler = Callable[[Callable[[], None]], None]


def run_now(callback: Callable[[], None]) -> None:
    callback()


class Exchange(PricesFundingAndTime, TriggerEngine):
    def __init__(self, seed: int = 7, network: str = "mainnet", clock: Optional[Clock] = None,
                 markets: Optional[Dict[str, Market]] = None, funding_fee_paid_positive: bool = True):
        if network not in CHAIN_IDS:
            raise ValueError(f"network must be one of {sorted(CHAIN_IDS)}")
        self.seed, self.network, self.chain_id = seed, network, CHAIN_IDS[network]
        self.clock = clock or Clock()
        self.markets: Dict[str, Market] = markets or default_markets()
        self.books: Dict[str, OrderBook] = {name: OrderBook(name) for name in self.markets}
        self.accounts: Dict[int, Account] = {}
        self.api_keys: Dict[str, int] = {}
        self.public_trades: Dict[str, List[dict]] = {name: [] for name in self.markets}
        self.funding_history: Dict[str, List[dict]] = {name: [] for name in self.markets}
        self.open_interest_history: Dict[str, List[dict]] = {name: [] for name in self.markets}
        self.candles = CandleStore()
        self.funding_fee_paid_positive = funding_fee_paid_positive
        self.sink: EventSink = NullSink()
        self.schedule: Scheduler = run_now
        self.message_order_rng = random.Random(seed * 7919 + 1)
        self.dead_man_deadlines: Dict[int, int] = {}
        self.watched: Dict[str, Dict[int, Order]] = {}  # conditional / TP-SL orders waiting for a price
        self.trigger_checks_pending: Set[str] = set()
        self._published_books: Dict[str, Tuple[dict, dict]] = {name: ({}, {}) for name in self.markets}
        self._next = {"order": ORDER_ID_BASE, "trade": TRADE_ID_BASE, "position": 1, "account": 100,
                      "funding": 1, "sequence": 0}
        self.clock.add_listener(self.on_clock_moved)
        for market in self.markets.values():
            self.candles.add(market.name, "mark-prices", self.clock.now_ms(), market.mark_price)
            self.candles.add(market.name, "index-prices", self.clock.now_ms(), market.index_price)

    # ----- ids and accounts -------------------------------------------------
    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def add_account(self, api_key: Optional[str], public_key: int, vault: int, balance: Decimal,
                    fees: Optional[FeeRates] = None, client_id: Optional[int] = None,
                    is_market_maker: bool = False) -> Account:
        if api_key is not None and api_key in self.api_keys:
            raise ValueError("an account with this API key already exists")
        account_id = self.next_id("account")
        account = Account(account_id, api_key, public_key, vault, Decimal(balance), fees or FeeRates(),
                          client_id if client_id is not None else account_id, is_market_maker,
                          updated_time=self.clock.now_ms())
        self.accounts[account_id] = account
        if api_key is not None:
            self.api_keys[api_key] = account_id
        return account

    def account_by_key(self, api_key: Optional[str]) -> Optional[Account]:
        account_id = self.api_keys.get(api_key or "")
        return self.accounts.get(account_id) if account_id is not None else None

    # ----- order entry --------------------------------------------------------
    def submit_order(self, account: Account, body: dict) -> Order:
        """REST-level acceptance: parse, validate, register; matching is scheduled."""
        req = parse_order_body(body)
        order = self._new_order(account, req)
        replaced = validate_order(self, account, req, order)
        account.orders[order.id] = order
        log.debug("accepted order %s (%s %s %s @ %s) for account %s", order.id, order.market, order.side,
                  order.qty, order.price, account.account_id)
        if order.status == "UNTRIGGERED":
            self.schedule(lambda: self._store_untriggered(order, replaced))
            return order
        if order.legs:
            self.watch(order)  # its TP/SL legs arm with its first fill
        self.schedule(lambda: self.process_order(order, replaced))
        return order

    def _new_order(self, account: Account, req: OrderRequest) -> Order:
        now = self.clock.now_ms()
        return Order(
            id=self.next_id("order"), external_id=req.external_id, account_id=account.account_id,
            market=req.market, order_type=req.order_type, side=req.side, qty=req.qty, price=req.price,
            time_in_force=req.time_in_force, expire_time=req.expiry_epoch_millis, fee_rate=req.fee,
            reduce_only=req.reduce_only, post_only=req.post_only,
            self_trade_protection=req.self_trade_protection, created_time=now, updated_time=now,
            sequence=self.next_id("sequence"), status="UNTRIGGERED" if _waits(req) else "NEW",
            execution_type=_execution_type(req), trigger=req.trigger, tp_sl_type=req.tp_sl_type,
            take_profit=req.take_profit, stop_loss=req.stop_loss, legs_pending=bool(req.legs),
        )

    def _store_untriggered(self, order: Order, replaced: Optional[Order]) -> None:
        """A conditional / TPSL order is reported UNTRIGGERED, then waits for its trigger price."""
        if replaced is not None and replaced.is_open:
            self._finish(replaced, "CANCELLED", "ORDER_REPLACED")
            self.publish_book(replaced.market)
        if order.status != "UNTRIGGERED":
            return
        self.emit_order(order)
        self.emit_balance(self.accounts[order.account_id])
        self.watch(order)
        self.request_trigger_check(order.market)

    def place_internal(self, account: Account, market: str, side: str, qty: Decimal, price: Decimal) -> Order:
        """A GTT limit order from an internal (market-maker) account, matched at once."""
        now = self.clock.now_ms()
        order = Order(self.next_id("order"), f"mm-{self._next['order']}", account.account_id, market, "LIMIT",
                      side, qty, price, "GTT", now + 90 * 24 * HOUR_MS, ZERO, False, False, "ACCOUNT",
                      now, now, sequence=self.next_id("sequence"))
        account.orders[order.id] = order
        self.process_order(order, None, publish=False)
        return order

    # ----- matching -------------------------------------------------------------
    def process_order(self, order: Order, replaced: Optional[Order], publish: bool = True) -> None:
        if not order.is_open:
            return
        if replaced is not None and replaced.is_open:
            self._finish(replaced, "CANCELLED", "ORDER_REPLACED")
        book = self.books[order.market]
        outcome = self._pre_match_outcome(order, book)
        if outcome is not None:
            self._finish(order, *outcome)
        else:
            self._match(order, book)
        if publish:
            self.publish_book(order.market)
        self.request_trigger_check(order.market)  # the last price may have moved, fills arm TP/SL legs

    def _pre_match_outcome(self, order: Order, book: OrderBook) -> Optional[Tuple[str, str]]:
        """(status, statusReason) when the order must end before matching, else None."""
        if order.post_only and book.would_cross(order):
            return "REJECTED", "POST_ONLY_FAILED"
        if order.reduce_only and self._reducible_qty(order) < order.qty:
            return "REJECTED", "REDUCE_ONLY_FAILED"
        if order.time_in_force == "FOK":
            allowed = self._stp_allows(order)
            if book.fillable_qty(order, allowed) < order.qty or self._stp_blocks_before_fill(order, book):
                return "CANCELLED", "NO_LIQUIDITY"
        return None

    def _reducible_qty(self, order: Order) -> Decimal:
        position = self.accounts[order.account_id].positions.get(order.market)
        if position is None or position.long == order.is_buy:
            return ZERO
        return abs(position.size)

    def _stp_allows(self, taker: Order) -> Callable[[Order], bool]:
        level = taker.self_trade_protection
        taker_account = self.accounts[taker.account_id]

        def allowed(maker: Order) -> bool:
            maker_account = self.accounts[maker.account_id]
            if level == "ACCOUNT":
                return maker_account.account_id != taker_account.account_id
            if level == "CLIENT":
                return maker_account.client_id != taker_account.client_id
            return True
        return allowed

    def _stp_blocks_before_fill(self, taker: Order, book: OrderBook) -> bool:
        allowed, needed = self._stp_allows(taker), taker.qty
        for maker in book.opposite(taker):
            if not allowed(maker):
                return True
            needed -= maker.remaining
            if needed <= 0:
                return False
        return False

    def _match(self, taker: Order, book: OrderBook) -> None:
        allowed = self._stp_allows(taker)
        for maker in book.opposite(taker):
            if taker.remaining <= 0:
                break
            if not book.contains(maker):  # cancelled by an earlier fill (resting reduce-only)
                continue
            if not allowed(maker):
                self._finish(taker, "CANCELLED", "SELF_TRADE_PROTECTION")
                return
            self.execute_fill(taker, Fill(maker, min(taker.remaining, maker.remaining), maker.price))
        self._after_match(taker, book)

    def _after_match(self, taker: Order, book: OrderBook) -> None:
        if taker.remaining <= 0 or not taker.is_open:
            return
        if taker.rests:
            book.add(taker)
            if taker.filled_qty == 0:
                self.emit_order(taker)
                self.emit_balance(self.accounts[taker.account_id])  # initial margin now includes it
            return
        self._finish(taker, "CANCELLED", "NO_LIQUIDITY")

    def _finish(self, order: Order, status: str, reason: Optional[str]) -> None:
        self.books[order.market].remove(order)
        order.status, order.status_reason = status, reason
        order.updated_time = self.clock.now_ms()
        self.emit_order(order)
        self.emit_balance(self.accounts[order.account_id])

    # ----- fills ----------------------------------------------------------------
    def execute_fill(self, taker: Order, fill: Fill) -> None:
        now = self.clock.now_ms()
        trade_id = self.next_id("trade")
        for order, is_taker in ((fill.maker, False), (taker, True)):
            self._fill_order(order, fill, is_taker, trade_id, now)
        if fill.maker.remaining <= 0:
            self.books[fill.maker.market].remove(fill.maker)
        for account_id in {taker.account_id, fill.maker.account_id}:
            self._enforce_reduce_only(self.accounts[account_id], taker.market, (taker.id, fill.maker.id))
        market = self.markets[taker.market]
        market.last_price = fill.price
        public = {"m": market.name, "S": taker.side, "tT": "TRADE", "T": now, "p": str(fill.price),
                  "q": str(fill.qty), "i": trade_id}
        self.public_trades[market.name].append(public)
        self.sink.public_message("publicTrades", market.name, {"ts": now, "data": [public]})
        self.candles.add(market.name, "trades", now, fill.price, fill.qty)
        self.sink.candle_changed(market.name, "trades")

    def _fill_order(self, order: Order, fill: Fill, is_taker: bool, trade_id: int, now: int) -> None:
        account = self.accounts[order.account_id]
        rate = account.fees.taker if is_taker else account.fees.maker
        value = fill.qty * fill.price
        fee = (value * rate).quantize(COLLATERAL_STEP, rounding=ROUND_UP)
        order.filled_qty += fill.qty
        order.filled_value += value
        order.payed_fee += fee
        order.updated_time = now
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        signed_qty = fill.qty if order.is_buy else -fill.qty
        realised = self._apply_position(account, order.market, signed_qty, fill.price, now)
        account.balance += realised - fee
        account.updated_time = now
        trade = {"id": trade_id, "accountId": account.account_id, "market": order.market, "orderId": order.id,
                 "externalOrderId": order.external_id, "side": order.side, "price": str(fill.price),
                 "qty": str(fill.qty), "value": fmt(value), "fee": fmt(fee), "tradeType": "TRADE",
                 "createdTime": now, "isTaker": is_taker}
        account.trades.append(trade)
        self._emit_fill(account, order, trade)

    def _emit_fill(self, account: Account, order: Order, trade: dict) -> None:
        if account.is_market_maker:
            return
        order_first = self.message_order_rng.random() < 0.5
        if order_first:
            self.emit_order(order)
        self._account_message(account, "TRADE", {"trades": [trade]})
        if not order_first:
            self.emit_order(order)
        self.emit_balance(account)
        self.emit_position(account, order.market)

    def _enforce_reduce_only(self, account: Account, market: str, busy: Tuple[int, ...]) -> None:
        """Resting reduce-only orders that could now grow the position are cancelled."""
        for order in account.open_orders(market):
            if order.reduce_only and order.id not in busy and self._reducible_qty(order) < order.remaining:
                self._finish(order, "CANCELLED", "REDUCE_ONLY_FAILED")

    def _apply_position(self, account: Account, market: str, signed_qty: Decimal, price: Decimal,
                        now: int) -> Decimal:
        realised = ZERO
        position = account.positions.get(market)
        if position is not None and (signed_qty > 0) != position.long:
            closing = min(abs(signed_qty), abs(position.size)) * (1 if signed_qty > 0 else -1)
            realised = position.apply_fill(closing, price, now)
            signed_qty -= closing
            if position.size == 0:
                position.closed_time = now
                account.closed_positions.append(position)
                del account.positions[market]
        if signed_qty != 0:
            position = account.positions.get(market)
            if position is None:
                position = Position(self.next_id("position"), market, ZERO, price, now, now, long=signed_qty > 0)
                account.positions[market] = position
            position.apply_fill(signed_qty, price, now)
        return realised

    # ----- cancels ----------------------------------------------------------------
    def cancel_order(self, account: Account, order: Order) -> None:
        if not order.is_open:
            raise ApiError(errors.NOT_FOUND, "Order not found", 404)
        self.schedule(lambda: self._cancel_now(order))

    def _cancel_now(self, order: Order, reason: Optional[str] = None) -> None:
        if order.is_open:
            self._finish(order, "CANCELLED", reason)
            self.publish_book(order.market)

    def mass_cancel(self, account: Account, order_ids: List[int], external_ids: List[str],
                    markets: List[str], cancel_all: bool) -> int:
        chosen = [o for o in account.open_orders()
                  if cancel_all or o.id in order_ids or o.external_id in external_ids or o.market in markets]
        for order in chosen:
            self.schedule(lambda order=order: self._cancel_now(order))
        return len(chosen)

    def set_dead_man_switch(self, account: Account, countdown_seconds: int) -> None:
        if countdown_seconds == 0:
            self.dead_man_deadlines.pop(account.account_id, None)
        else:
            self.dead_man_deadlines[account.account_id] = self.clock.now_ms() + countdown_seconds * 1000

    # ----- stream emission -------------------------------------------------------
    def _account_message(self, account: Account, msg_type: str, data: dict) -> None:
        if account.is_market_maker:
            return
        self.sink.account_message(account.account_id, {"type": msg_type, "data": data, "ts": self.clock.now_ms()})

    def emit_order(self, order: Order) -> None:
        self._account_message(self.accounts[order.account_id], "ORDER", {"orders": [order.to_json(stream=True)]})

    def emit_balance(self, account: Account) -> None:
        self._account_message(account, "BALANCE", {"balance": balance_json(account, self.markets,
                                                                           self.clock.now_ms())})

    def emit_position(self, account: Account, market: str) -> None:
        position = account.positions.get(market)
        if position is None:
            closed = [p for p in account.closed_positions if p.market == market]
            if not closed:
                return
            position = closed[-1]
        data = position.to_json(account.account_id, self.markets[market], account.leverage_for(market))
        self._account_message(account, "POSITION", {"positions": [data]})

    def book_levels(self, market: str) -> Tuple[dict, dict]:
        book = self.books[market]
        return dict(book.levels(True)), dict(book.levels(False))

    def publish_book(self, market: str) -> None:
        """Send a DELTA (qty changes per price level) if the book changed since last publish."""
        old_bids, old_asks = self._published_books[market]
        new_bids, new_asks = self.book_levels(market)
        bid_changes, ask_changes = _level_changes(old_bids, new_bids), _level_changes(old_asks, new_asks)
        self._published_books[market] = (new_bids, new_asks)
        if not bid_changes and not ask_changes:
            return
        message = {"ts": self.clock.now_ms(), "type": "DELTA",
                   "data": {"t": "DELTA", "m": market, "b": bid_changes, "a": ask_changes}}
        self.sink.public_message("orderbooks", market, message)
        if _top(old_bids, old_asks) != _top(new_bids, new_asks):
            self.sink.public_message("orderbooks/depth1", market, self.top_of_book_snapshot(market))

    def top_of_book_snapshot(self, market: str) -> dict:
        """``depth=1`` streams get a SNAPSHOT of the best bid and ask whenever either changes."""
        bids, asks = self._published_books[market]
        (bid, ask) = _top(bids, asks)
        return {"ts": self.clock.now_ms(), "type": "SNAPSHOT", "data": {
            "t": "SNAPSHOT", "m": market,
            "b": [{"p": str(bid), "q": str(bids[bid])}] if bid is not None else [],
            "a": [{"p": str(ask), "q": str(asks[ask])}] if ask is not None else []}}

    def published_book(self, market: str) -> Tuple[dict, dict]:
        return self._published_books[market]


def _waits(req: OrderRequest) -> bool:
    return req.order_type in ("CONDITIONAL", "TPSL")


def _execution_type(req: OrderRequest) -> str:
    """LIMIT or MARKET; a conditional order's executionPriceType, a TPSL order's leg (set at trigger)."""
    if req.trigger is not None:
        return req.trigger.execution_price_type
    return "MARKET" if req.order_type == "MARKET" else "LIMIT"


def _top(bids: dict, asks: dict) -> Tuple[Optional[Decimal], Optional[Decimal]]:
    best_bid = max(bids) if bids else None
    best_ask = min(asks) if asks else None
    return best_bid, best_ask


def _level_changes(old: dict, new: dict) -> List[dict]:
    changes = []
    for price in sorted(set(old) | set(new)):
        delta = new.get(price, ZERO) - old.get(price, ZERO)
        if delta != 0:
            changes.append({"p": str(price), "q": str(delta)})
    return changes
