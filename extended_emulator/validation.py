"""Synchronous REST-level checks of a parsed order (answered as API errors)."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from . import errors, signing, trigger_validation
from .accounts import Account, available_for_trade
from .errors import ApiError
from .markets import ACTIVE, REDUCE_ONLY, Market
from .orders import Order, OrderRequest
from .rules import check_tick, decimals, fail
from .signing import SignedTerms

if TYPE_CHECKING:
    from .exchange import Exchange

DAY_MS = 24 * 3600 * 1000
MAX_EXPIRY_DAYS = {"mainnet": 90, "testnet": 28}
MARKET_ORDER_BAND = Decimal("0.05")


def check_market(market: Optional[Market], req: OrderRequest) -> Market:
    if market is None:
        raise ApiError(errors.MARKET_NOT_FOUND, "Market not found", 400)
    if market.status not in (ACTIVE, REDUCE_ONLY):
        raise fail(errors.MARKET_DISABLED, "Market is disabled")
    if market.status == REDUCE_ONLY and not req.reduce_only:
        raise fail(errors.MARKET_REDUCE_ONLY, "Market is in reduce only mode, non-reduce only orders are not allowed")
    return market


def check_type(req: OrderRequest) -> None:
    if req.order_type == "MARKET" and req.time_in_force != "IOC":
        raise fail(errors.MARKET_ORDER_MUST_BE_IOC, "Market order must have time in force IOC")
    trigger_validation.check_conditional_parts(req)
    trigger_validation.check_tpsl_parts(req)


def check_qty(req: OrderRequest, market: Market) -> None:
    rules = market.trading
    if req.order_type == "TPSL" and req.tp_sl_type == "POSITION":
        return  # size 0: the whole position at trigger time (checked in check_tpsl_parts)
    if req.qty <= 0:
        raise fail(errors.INVALID_ORDER_PARAMETERS, "Order quantity must be positive")
    if req.qty < rules.min_order_size:
        raise fail(errors.QTY_BELOW_MIN, "Order quantity less than min trade size")
    if decimals(req.qty) > decimals(rules.min_order_size_change):
        raise fail(errors.QTY_PRECISION, "Invalid quantity precision")
    if req.qty % rules.min_order_size_change != 0:
        raise fail(errors.QTY_WRONG_INCREMENT, "Invalid quantity due to the wrong size increment")


def _executes_as_market(req: OrderRequest) -> bool:
    return req.order_type == "MARKET" or (req.trigger is not None and req.trigger.execution_price_type == "MARKET")


def check_price(req: OrderRequest, market: Market) -> None:
    """Tick, max value and band; a TPSL order (price 0) is priced by its legs."""
    rules = market.trading
    trigger_validation.check_trigger_prices(req, market)
    if req.order_type == "TPSL":
        return
    check_tick(req.price, rules)
    max_value = rules.max_market_order_value if _executes_as_market(req) else rules.max_limit_order_value
    if req.qty * req.price > max_value:
        raise fail(errors.VALUE_ABOVE_MAX, "Order value exceeds max order value")
    check_price_band(req, market)


def check_price_band(req: OrderRequest, market: Market) -> None:
    """Limit: cap/floor around mark; market: 5 % around mark; conditional: cap/floor around the trigger."""
    reference = market.mark_price
    if req.order_type == "MARKET":
        cap, floor = MARKET_ORDER_BAND, MARKET_ORDER_BAND
    else:
        cap, floor = market.trading.limit_price_cap, market.trading.limit_price_floor
    if req.trigger is not None:
        reference = req.trigger.trigger_price
    if req.side == "BUY" and req.price > reference * (1 + cap):
        raise fail(errors.INVALID_PRICE_AMOUNT, "Invalid price value: above the price cap")
    if req.side == "SELL" and req.price < reference * (1 - floor):
        raise fail(errors.INVALID_PRICE_AMOUNT, "Invalid price value: below the price floor")


def check_fee(req: OrderRequest, account: Account) -> None:
    required = account.fees.maker if req.post_only else account.fees.taker
    if req.fee < required or req.fee >= 1:
        raise fail(errors.INVALID_FEE, "Trading fees are invalid")


def check_expiry(req: OrderRequest, now_ms: int, network: str) -> None:
    if req.expiry_epoch_millis <= now_ms:
        raise fail(errors.INVALID_EXPIRATION, "Order expiration is in the past")
    if req.expiry_epoch_millis > now_ms + MAX_EXPIRY_DAYS[network] * DAY_MS:
        raise fail(errors.INVALID_EXPIRATION,
                   f"Order expiration date must be within {MAX_EXPIRY_DAYS[network]} days")


def check_signature(req: OrderRequest, account: Account, market: Market, chain_id: str) -> None:
    """The order's settlement (absent on TPSL orders), then each TP/SL leg's; amounts are recomputed."""
    if req.settlement is not None:
        terms = SignedTerms(req.side, req.qty, req.price, req.fee, req.expiry_epoch_millis, req.nonce)
        if not signing.settlement_valid(req.settlement, terms, account.public_key, account.vault,
                                        market.l2, chain_id):
            raise fail(errors.INVALID_STARKNET_SIGNATURE, "Invalid Starknet signature")
    trigger_validation.check_leg_signatures(req, account, market, chain_id)


def check_identity(req: OrderRequest, account: Account) -> Optional[Order]:
    """Duplicate external id (1134) and the order to replace (1142). Returns the replaced order."""
    replaced = None
    if req.cancel_id is not None:
        candidates = [o for o in account.find_by_external_id(req.cancel_id) if o.is_open]
        if not candidates:
            raise fail(errors.EDIT_ORDER_NOT_FOUND, "Edit order not found")
        replaced = candidates[0]
    if req.external_id != req.cancel_id and account.find_by_external_id(req.external_id):
        raise fail(errors.DUPLICATE_ORDER, "Duplicate Order")
    return replaced


def check_open_orders(req: OrderRequest, account: Account, market: Market, replaced: Optional[Order]) -> None:
    count = len(account.open_orders(market.name)) - (1 if replaced is not None else 0)
    if count >= market.trading.max_num_orders:
        raise fail(errors.MAX_OPEN_ORDERS, "Max open orders number exceeded")


def check_reduce_only(req: OrderRequest, account: Account) -> None:
    if not req.reduce_only:
        return
    position = account.positions.get(req.market)
    if position is None or position.size == 0:
        raise fail(errors.REDUCE_ONLY_NO_POSITION, "Position is missing for a reduce-only order")
    if position.long == (req.side == "BUY"):
        raise fail(errors.REDUCE_ONLY_SAME_SIDE, "Position is the same side as a reduce-only order")
    if req.qty > abs(position.size):
        raise fail(errors.REDUCE_ONLY_EXCEEDS_POSITION, "Reduce-only order size exceeds open position size")


def check_position_value(req: OrderRequest, account: Account, market: Market) -> None:
    position = account.positions.get(req.market)
    size = position.size if position else Decimal(0)
    new_size = size + (req.qty if req.side == "BUY" else -req.qty)
    if abs(new_size) > abs(size) and abs(new_size) * req.price > market.trading.max_position_value:
        raise fail(errors.MAX_POSITION_VALUE, "Max position value exceeded")


def check_cost(ex: "Exchange", req: OrderRequest, account: Account, candidate: Order) -> None:
    if req.reduce_only:
        return
    fee = req.qty * req.price * req.fee
    if available_for_trade(account, ex.markets, candidate) - fee < 0:
        raise fail(errors.COST_EXCEEDS_BALANCE, "New order cost exceeds available balance")


def validate_order(ex: "Exchange", account: Account, req: OrderRequest, candidate: Order) -> Optional[Order]:
    """Runs every documented check in a fixed order; returns the order replaced via cancelId."""
    market = check_market(ex.markets.get(req.market), req)
    check_type(req)
    check_qty(req, market)
    check_price(req, market)
    check_fee(req, account)
    check_expiry(req, ex.clock.now_ms(), ex.network)
    check_signature(req, account, market, ex.chain_id)
    trigger_validation.check_leg_triggers(req, market)
    replaced = check_identity(req, account)
    check_open_orders(req, account, market, replaced)
    check_reduce_only(req, account)
    check_position_value(req, account, market)
    check_cost(ex, req, account, candidate)
    return replaced
