"""Client side: a signed POST /api/v1/user/order body, built the way the SDK builds it (tests, tools)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from .markets import L2Config, TradingConfig
from .signing import SignedTerms, public_key_of, settlement_hash, sign
from .triggers import LEG_FIELDS, STOP_LOSS, TAKE_PROFIT, Trigger, entire_position_qty, opposite


@dataclass(frozen=True)
class LegSpec:
    """One TP/SL leg: trigger, then a limit (or market) order at ``price``."""

    trigger_price: Decimal
    price: Decimal
    trigger_price_type: str = "MARK"
    price_type: str = "LIMIT"


@dataclass(frozen=True)
class OrderSpec:
    """Everything a client needs to build a signed order body."""

    market: str
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    expiry_epoch_millis: int
    nonce: int
    external_id: str
    order_type: str = "LIMIT"
    time_in_force: str = "GTT"
    post_only: bool = False
    reduce_only: bool = False
    self_trade_protection: str = "ACCOUNT"
    cancel_id: Optional[str] = None
    trigger: Optional[Trigger] = None
    tp_sl_type: Optional[str] = None
    take_profit: Optional[LegSpec] = None
    stop_loss: Optional[LegSpec] = None


@dataclass(frozen=True)
class Signer:
    private_key: int
    vault: int
    l2: L2Config
    chain_id: str

    def settlement(self, terms: SignedTerms) -> dict:
        public_key = public_key_of(self.private_key)
        r, s = sign(self.private_key, settlement_hash(terms, self.vault, public_key, self.l2, self.chain_id))
        return {"signature": {"r": hex(r), "s": hex(s)}, "starkKey": hex(public_key),
                "collateralPosition": str(self.vault)}


def _terms(spec: OrderSpec, side: str, qty: Decimal, price: Decimal) -> SignedTerms:
    return SignedTerms(side, qty, price, spec.fee, spec.expiry_epoch_millis, spec.nonce)


def _leg_body(spec: OrderSpec, leg: LegSpec, signer: Signer, trading: Optional[TradingConfig]) -> dict:
    """Legs sign the closing side (the order's own side for a TPSL order) at the leg price."""
    side = spec.side if spec.order_type == "TPSL" else opposite(spec.side)
    if spec.tp_sl_type == "POSITION":
        if trading is None:
            raise ValueError("POSITION TP/SL legs need the market's trading config")
        qty = entire_position_qty(trading, leg.price)
    else:
        qty = spec.qty
    return {"triggerPrice": str(leg.trigger_price), "triggerPriceType": leg.trigger_price_type,
            "price": str(leg.price), "priceType": leg.price_type,
            "settlement": signer.settlement(_terms(spec, side, qty, leg.price))}


def _add_trigger_parts(body: dict, spec: OrderSpec, signer: Signer, trading: Optional[TradingConfig]) -> None:
    if spec.trigger is not None:
        body["trigger"] = spec.trigger.to_json("direction")
    if spec.tp_sl_type is not None:
        body["tpSlType"] = spec.tp_sl_type
    for kind, leg in ((TAKE_PROFIT, spec.take_profit), (STOP_LOSS, spec.stop_loss)):
        if leg is not None:
            body[LEG_FIELDS[kind]] = _leg_body(spec, leg, signer, trading)


def build_order_body(spec: OrderSpec, l2: L2Config, private_key: int, vault: int, chain_id: str,
                     trading: Optional[TradingConfig] = None) -> dict:
    """A signed order body; a TPSL order has no top-level settlement (its legs are signed)."""
    signer = Signer(private_key, vault, l2, chain_id)
    body = {
        "id": spec.external_id, "market": spec.market, "type": spec.order_type, "side": spec.side,
        "qty": str(spec.qty), "price": str(spec.price), "reduceOnly": spec.reduce_only,
        "postOnly": spec.post_only, "timeInForce": spec.time_in_force,
        "expiryEpochMillis": spec.expiry_epoch_millis, "fee": str(spec.fee), "nonce": str(spec.nonce),
        "selfTradeProtectionLevel": spec.self_trade_protection,
    }
    if spec.order_type != "TPSL":
        body["settlement"] = signer.settlement(_terms(spec, spec.side, spec.qty, spec.price))
    if spec.cancel_id is not None:
        body["cancelId"] = spec.cancel_id
    _add_trigger_parts(body, spec, signer, trading)
    return body
