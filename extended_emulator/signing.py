"""SNIP-12 order hashing and Stark signature checks (via fast_stark_crypto).

The emulator recomputes every signed amount from qty, price, fee rate and the
market's l2Config; ``debuggingAmounts`` in a request body is ignored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Tuple

import fast_stark_crypto

from .fields import Settlement
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


@dataclass(frozen=True)
class SignedTerms:
    """What one settlement signs besides the account: side, size, price, fee rate, expiry, nonce."""

    side: str
    qty: Decimal
    price: Decimal
    fee_rate: Decimal
    expiry_epoch_millis: int
    nonce: int


def settlement_hash(terms: SignedTerms, vault: int, public_key: int, l2: L2Config, chain_id: str) -> int:
    amounts = order_amounts(terms.side, terms.qty, terms.price, terms.fee_rate, l2)
    return order_hash(vault, l2, amounts, terms.expiry_epoch_millis, terms.nonce, public_key, chain_id)


def settlement_valid(settlement: Settlement, terms: SignedTerms, public_key: int, vault: int, l2: L2Config,
                     chain_id: str) -> bool:
    """Checked against the account's REGISTERED key and vault; the body's must equal them."""
    if settlement.stark_key != public_key or settlement.collateral_position != vault:
        return False
    msg_hash = settlement_hash(terms, vault, public_key, l2, chain_id)
    return verify(public_key, msg_hash, settlement.r, settlement.s)


def verify(public_key: int, msg_hash: int, r: int, s: int) -> bool:
    try:
        return bool(fast_stark_crypto.verify(public_key, msg_hash, r, s))
    except (ValueError, OverflowError, TypeError):
        return False


def sign(private_key: int, msg_hash: int) -> Tuple[int, int]:
    return fast_stark_crypto.sign(private_key, msg_hash)


def public_key_of(private_key: int) -> int:
    return fast_stark_crypto.get_public_key(private_key)
