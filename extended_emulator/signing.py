"""SNIP-12 order hashing and Stark signature checks (via fast_stark_crypto).

The emulator recomputes every signed amount from qty, price, fee rate and the
market's l2Config; ``debuggingAmounts`` in a request body is ignored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Optional, Tuple

import fast_stark_crypto

from .markets import L2Config

DOMAIN_NAME, DOMAIN_VERSION, DOMAIN_REVISION = "Perpetuals", "v0", "1"
CHAIN_IDS = {"mainnet": "SN_MAIN", "testnet": "SN_SEPOLIA"}
SETTLEMENT_EXTRA_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class SignedAmounts:
    """Integer (quantum) amounts as they enter the order hash."""

    base: int
    quote: int
    fee: int


def _round(value: Decimal, up: bool) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR))


def order_amounts(side: str, qty: Decimal, price: Decimal, fee_rate: Decimal, l2: L2Config) -> SignedAmounts:
    """BUY rounds up and is +base/-quote; SELL rounds down and is -base/+quote; fee rounds up."""
    is_buy = side == "BUY"
    synthetic = _round(qty * l2.synthetic_resolution, is_buy)
    collateral = _round(qty * price * l2.collateral_resolution, is_buy)
    fee = _round(fee_rate * qty * price * l2.collateral_resolution, True)
    if is_buy:
        return SignedAmounts(synthetic, -collateral, fee)
    return SignedAmounts(-synthetic, collateral, fee)


def settlement_expiration_seconds(expiry_epoch_millis: int) -> int:
    """ceil(expiry seconds + 14 days), the expiration that is signed."""
    return math.ceil(Decimal(expiry_epoch_millis) / 1000 + SETTLEMENT_EXTRA_SECONDS)


def order_hash(vault: int, l2: L2Config, amounts: SignedAmounts, expiry_epoch_millis: int,
               nonce: int, public_key: int, chain_id: str) -> int:
    collateral_id = int(l2.collateral_id, 16)
    return fast_stark_crypto.get_order_msg_hash(
        position_id=vault,
        base_asset_id=int(l2.synthetic_id, 16),
        base_amount=amounts.base,
        quote_asset_id=collateral_id,
        quote_amount=amounts.quote,
        fee_asset_id=collateral_id,
        fee_amount=amounts.fee,
        expiration=settlement_expiration_seconds(expiry_epoch_millis),
        salt=nonce,
        user_public_key=public_key,
        domain_name=DOMAIN_NAME,
        domain_version=DOMAIN_VERSION,
        domain_chain_id=chain_id,
        domain_revision=DOMAIN_REVISION,
    )


def verify(public_key: int, msg_hash: int, r: int, s: int) -> bool:
    try:
        return bool(fast_stark_crypto.verify(public_key, msg_hash, r, s))
    except (ValueError, OverflowError, TypeError):
        return False


def sign(private_key: int, msg_hash: int) -> Tuple[int, int]:
    return fast_stark_crypto.sign(private_key, msg_hash)


def public_key_of(private_key: int) -> int:
    return fast_stark_crypto.get_public_key(private_key)


@dataclass(frozen=True)
class OrderSpec:
    """Everything a client needs to build a signed order body (test/client helper)."""

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


def build_order_body(spec: OrderSpec, l2: L2Config, private_key: int, vault: int, chain_id: str) -> dict:
    """A signed POST /api/v1/user/order body, as the SDK would send it."""
    public_key = public_key_of(private_key)
    amounts = order_amounts(spec.side, spec.qty, spec.price, spec.fee, l2)
    msg_hash = order_hash(vault, l2, amounts, spec.expiry_epoch_millis, spec.nonce, public_key, chain_id)
    r, s = sign(private_key, msg_hash)
    body = {
        "id": spec.external_id, "market": spec.market, "type": spec.order_type, "side": spec.side,
        "qty": str(spec.qty), "price": str(spec.price), "reduceOnly": spec.reduce_only,
        "postOnly": spec.post_only, "timeInForce": spec.time_in_force,
        "expiryEpochMillis": spec.expiry_epoch_millis, "fee": str(spec.fee), "nonce": str(spec.nonce),
        "selfTradeProtectionLevel": spec.self_trade_protection,
        "settlement": {"signature": {"r": hex(r), "s": hex(s)}, "starkKey": hex(public_key),
                       "collateralPosition": str(vault)},
    }
    if spec.cancel_id is not None:
        body["cancelId"] = spec.cancel_id
    return body
