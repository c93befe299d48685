"""REST-level checks specific to CONDITIONAL orders, TPSL orders and TP/SL legs.

Codes: 1143 conditional without trigger, 1144 post-only conditional market order, 1131 TP/SL
without a leg, 1129 POSITION TPSL with a size, 1133 other malformed combinations, 1141 trigger
or leg prices on the wrong side, 1101 a leg settlement that does not verify.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from . import errors, signing
from .markets import Market
from .orders import OrderRequest
from .rules import check_tick, fail
from .signing import SignedTerms
from .triggers import TpSlLeg, entire_position_qty, leg_direction, opposite

if TYPE_CHECKING:
    from .accounts import Account


def _invalid(message: str):
    return fail(errors.INVALID_ORDER_PARAMETERS, message)


def check_conditional_parts(req: OrderRequest) -> None:
    if req.order_type == "CONDITIONAL" and req.trigger is None:
        raise fail(errors.MISSING_CONDITIONAL_TRIGGER, "Conditional order trigger is missing")
    if req.order_type != "CONDITIONAL" and req.trigger is not None:
        raise _invalid("Only conditional orders take a trigger")
    if req.trigger is not None and req.trigger.execution_price_type == "MARKET" and req.post_only:
        raise fail(errors.POST_ONLY_CONDITIONAL_MARKET, "Conditional market order can't be Post-only")


def check_tpsl_parts(req: OrderRequest) -> None:
    if (req.order_type == "TPSL" or req.tp_sl_type is not None) and not req.legs:
        raise fail(errors.MISSING_TPSL_TRIGGER, "TP/SL order trigger is missing")
    if req.legs and req.tp_sl_type is None:
        raise _invalid("tpSlType is required with takeProfit/stopLoss")
    if req.order_type != "TPSL":
        return
    if not req.reduce_only or req.post_only:
        raise _invalid("TPSL orders must be reduce-only and not post-only")
    if req.price != 0:
        raise _invalid("TPSL order price must be 0")
    if req.tp_sl_type == "POSITION" and req.qty != 0:
        raise fail(errors.INVALID_POSITION_TPSL_QTY, "Invalid quantity for position TP/SL")


def check_trigger_prices(req: OrderRequest, market: Market) -> None:
    """Trigger and leg prices follow the market tick like order prices."""
    if req.trigger is not None:
        check_tick(req.trigger.trigger_price, market.trading, "trigger price")
    for leg in req.legs:
        check_tick(leg.trigger_price, market.trading, "trigger price")
        check_tick(leg.price, market.trading)


def leg_side(req: OrderRequest) -> str:
    """A TPSL order's legs trade its own side; legs attached to an entry order trade the other side."""
    return req.side if req.order_type == "TPSL" else opposite(req.side)


def leg_qty(req: OrderRequest, leg: TpSlLeg, market: Market) -> Decimal:
    if req.tp_sl_type == "POSITION":
        return entire_position_qty(market.trading, leg.price)
    return req.qty


def check_leg_signatures(req: OrderRequest, account: "Account", market: Market, chain_id: str) -> None:
    for leg in req.legs:
        terms = SignedTerms(leg_side(req), leg_qty(req, leg, market), leg.price, req.fee,
                            req.expiry_epoch_millis, req.nonce)
        if not signing.settlement_valid(leg.settlement, terms, account.public_key, account.vault,
                                        market.l2, chain_id):
            raise fail(errors.INVALID_STARKNET_SIGNATURE, "Invalid Starknet signature")


def check_leg_triggers(req: OrderRequest, market: Market) -> None:
    """The doc's TPSL table: TP/SL triggers on the right side of the entry price (the mark price for a
    TPSL order, which has no entry), leg prices within the cap/floor of their trigger."""
    entry = market.mark_price if req.order_type == "TPSL" else req.price
    side = leg_side(req)
    for leg in req.legs:
        rising = leg_direction(leg.kind, side) == "UP"
        if (leg.trigger_price <= entry) if rising else (leg.trigger_price >= entry):
            raise fail(errors.INVALID_PRICE_AMOUNT, "Invalid price value: TP/SL trigger price on the wrong side")
        rules = market.trading
        if side == "SELL" and leg.price < leg.trigger_price * (1 - rules.limit_price_floor):
            raise fail(errors.INVALID_PRICE_AMOUNT, "Invalid price value: below the TP/SL price floor")
        if side == "BUY" and leg.price > leg.trigger_price * (1 + rules.limit_price_cap):
            raise fail(errors.INVALID_PRICE_AMOUNT, "Invalid price value: above the TP/SL price cap")
