"""Field parsers for request bodies: each raises the documented API error on a bad value."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from . import errors
from .errors import ApiError


@dataclass(frozen=True)
class Settlement:
    r: int
    s: int
    stark_key: int
    collateral_position: int


def bad(message: str, code: int = errors.BAD_REQUEST) -> ApiError:
    return ApiError(code, message, 400)


def required(body: dict, key: str) -> Any:
    value = body.get(key)
    if value is None:
        raise bad(f"Missing required field '{key}'")
    return value


def decimal(body: dict, key: str) -> Decimal:
    raw = required(body, key)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise bad(f"Field '{key}' is not a decimal number")
    if not value.is_finite():
        raise bad(f"Field '{key}' is not a decimal number")
    return value


def integer(raw: Any, key: str) -> int:
    if isinstance(raw, bool):
        raise bad(f"Field '{key}' is not an integer")
    try:
        return int(raw, 0) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise bad(f"Field '{key}' is not an integer")


def enum(body: dict, key: str, allowed: tuple, default: Optional[str] = None) -> str:
    """Case-insensitive (the doc lists values both as "GTT" and "limit"); unknown value -> 1133."""
    raw = body.get(key, default)
    if raw is None:
        raise bad(f"Missing required field '{key}'")
    value = str(raw).upper()
    if value not in allowed:
        raise bad(f"Invalid value for '{key}'", errors.INVALID_ORDER_PARAMETERS)
    return value


def boolean(body: dict, key: str) -> bool:
    raw = body.get(key, False)
    if not isinstance(raw, bool):
        raise bad(f"Field '{key}' must be a boolean")
    return raw


def _hex_string(raw: Any) -> Any:
    if isinstance(raw, str) and not raw.lower().startswith("0x"):
        return "0x" + raw
    return raw


def parse_settlement(raw: Any, where: str = "settlement") -> Settlement:
    if not isinstance(raw, dict) or not isinstance(raw.get("signature"), dict):
        raise bad(f"Missing required field '{where}'")
    signature = raw["signature"]
    return Settlement(
        r=integer(_hex_string(signature.get("r")), f"{where}.signature.r"),
        s=integer(_hex_string(signature.get("s")), f"{where}.signature.s"),
        stark_key=integer(_hex_string(raw.get("starkKey")), f"{where}.starkKey"),
        collateral_position=integer(raw.get("collateralPosition"), f"{where}.collateralPosition"),
    )
