"""Trading-rule primitives shared by the order validations (answered as HTTP 400 API errors)."""
from __future__ import annotations

from decimal import Decimal

from . import errors
from .errors import ApiError
from .markets import TradingConfig


def fail(code: int, message: str) -> ApiError:
    return ApiError(code, message, 400)


def decimals(value: Decimal) -> int:
    return max(0, -value.normalize().as_tuple().exponent)


def check_tick(price: Decimal, rules: TradingConfig, what: str = "price") -> None:
    """Positive, and on the market's tick: too many decimals -> 1125, off the step -> 1124."""
    if price <= 0:
        raise fail(errors.INVALID_PRICE_AMOUNT, f"Invalid {what} value")
    if decimals(price) > decimals(rules.min_price_change):
        raise fail(errors.PRICE_PRECISION, f"Invalid {what} precision")
    if price % rules.min_price_change != 0:
        raise fail(errors.PRICE_WRONG_MOVEMENT, f"Invalid {what} due to wrong price movement")
