"""Pure Starknet order signing for Extended perpetuals.

Turns account, network, market l2Config and order parameters into the signed
settlement and the body POSTed to ``/api/v1/user/order``.  No I/O, no clock,
no randomness: nonce, expiry and "now" are inputs.  Arithmetic follows the
official x10 SDK (Decimal only; BUY rounds up, SELL rounds down, fee rounds up).
"""
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_UP, Context, Decimal, Inexact, InvalidOperation
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple, Union

from fast_stark_crypto import get_order_msg_hash, get_public_key, rs_get_order_msg, rs_sign_message

BUY = "BUY"
SELL = "SELL"
SIDES = frozenset((BUY, SELL))
ORDER_TYPES = frozenset(("LIMIT", "MARKET", "CONDITIONAL", "TPSL"))
PLAIN_ORDER_TYPES = frozenset(("LIMIT", "MARKET"))  # one settlement, no trigger
TIME_IN_FORCES = frozenset(("GTT", "IOC"))
SELF_TRADE_PROTECTION_LEVELS = frozenset(("DISABLED", "ACCOUNT", "CLIENT"))
TPSL_TYPES = frozenset(("ORDER", "POSITION"))
TRIGGER_PRICE_TYPES = frozenset(("LAST", "MARK", "INDEX"))
TRIGGER_DIRECTIONS = frozenset(("UP", "DOWN"))
EXECUTION_PRICE_TYPES = frozenset(("LIMIT", "MARKET"))
TPSL_PRICE_TYPES = frozenset(("LIMIT",))

NONCE_MIN = 1
NONCE_MAX = 2 ** 31
VAULT_MAX = 2 ** 32 - 1
I64_MAX = 2 ** 63 - 1
SETTLEMENT_EXPIRY_BUFFER_MS = 14 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
POSITION_TPSL_VALUE_MULTIPLIER = Decimal(50)

_EXTERNAL_ID = re.compile(r"[A-Za-z0-9-]{1,32}")
# Products and remainders must be exact: anything needing > 100 digits raises instead of rounding.
_EXACT = Context(prec=100, Emax=999999, Emin=-999999, traps=[InvalidOperation, Inexact])
_DIVIDE_FLOOR = Context(prec=100, Emax=999999, Emin=-999999, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class SigningDomain:
    """Starknet typed-data domain of one Extended network, plus its max GTT expiry."""

    name: str
    version: str
    chain_id: str
    revision: str
    max_expiry_ms: int


SN_MAIN = SigningDomain("Perpetuals", "v0", "SN_MAIN", "1", 90 * DAY_MS)
SN_SEPOLIA = SigningDomain("Perpetuals", "v0", "SN_SEPOLIA", "1", 28 * DAY_MS)
SIGNING_DOMAINS: Mapping[str, SigningDomain] = {
    "extended_perpetual": SN_MAIN,
    "extended_perpetual_testnet": SN_SEPOLIA,
}


def signing_domain_for(connector_domain: str) -> SigningDomain:
    """The signing domain of a connector domain name; unknown names are refused."""
    domain = SIGNING_DOMAINS.get(connector_domain)
    if domain is None:
        raise ValueError(f"unknown connector domain {connector_domain!r}; "
                         f"expected one of {sorted(SIGNING_DOMAINS)}")
    return domain


def _parse_int(value: Union[int, str], what: str) -> int:
    """An int from an int or a 0x-hex / decimal string; the value never reaches the message."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer or a hex string")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return int(text, 16) if text.startswith("0x") else int(text)
        except ValueError:
            pass
    raise ValueError(f"{what} must be an integer or a hex string") from None


@dataclass(frozen=True)
class StarkAccount:
    """A Stark key pair and its vault (collateral position). The private key is never shown."""

    vault: int
    public_key: int
    private_key: int = field(repr=False)
    public_key_hex: str = field(init=False, repr=False, compare=False)
    vault_str: str = field(init=False, repr=False, compare=False)
    _private_key_hex: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if isinstance(self.vault, bool) or not isinstance(self.vault, int) or not 0 <= self.vault <= VAULT_MAX:
            raise ValueError("vault must be an integer in the u32 range [0, 2^32 - 1]")
        if not isinstance(self.private_key, int) or not isinstance(self.public_key, int):
            raise ValueError("stark keys must be integers")
        if self.private_key <= 0:
            raise ValueError("stark private key must be positive")
        if get_public_key(self.private_key) != self.public_key:
            raise ValueError("stark public key does not match the stark private key")
        object.__setattr__(self, "public_key_hex", hex(self.public_key))
        object.__setattr__(self, "vault_str", str(self.vault))
        object.__setattr__(self, "_private_key_hex", hex(self.private_key))

    @classmethod
    def from_config(cls, private_key: Union[int, str], public_key: Union[int, str],
                    vault: Union[int, str]) -> "StarkAccount":
        """From config values: keys as 0x-hex (or int), vault as int or decimal string."""
        return cls(vault=_parse_int(vault, "vault"),
                   public_key=_parse_int(public_key, "stark public key"),
                   private_key=_parse_int(private_key, "stark private key"))

    def __repr__(self) -> str:
        return f"StarkAccount(vault={self.vault}, public_key={self.public_key_hex})"

    __str__ = __repr__


def _positive_decimal(value: Any, what: str, allow_zero: bool = False) -> Decimal:
    """A finite Decimal >= 0 (or > 0) from a Decimal, int or string; floats are refused."""
    if type(value) is Decimal and value.is_finite() and value > 0:
        return value
    if isinstance(value, (float, bool)):
        raise ValueError(f"{what} must be a Decimal, int or string, not {type(value).__name__}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"{what} must be a decimal number") from None
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{what} must be {'non-negative' if allow_zero else 'positive'}")
    return number


@dataclass(frozen=True)
class SigningMarket:
    """Per-market constants for signing, built once from an ``/info/markets`` item."""

    name: str
    synthetic_id: int
    collateral_id: int
    synthetic_resolution: Decimal
    collateral_resolution: Decimal
    min_order_size: Decimal
    min_order_size_change: Decimal
    min_price_change: Decimal
    max_position_value: Optional[Decimal] = None
    max_limit_order_value: Optional[Decimal] = None  # qty x price of a LIMIT order (None: no limit known)
    max_market_order_value: Optional[Decimal] = None  # ... of a MARKET order
    synthetic_id_hex: str = field(init=False, repr=False, compare=False)
    collateral_id_hex: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "synthetic_id_hex", hex(self.synthetic_id))
        object.__setattr__(self, "collateral_id_hex", hex(self.collateral_id))
        for what in ("synthetic_resolution", "collateral_resolution", "min_order_size_change", "min_price_change"):
            _positive_decimal(getattr(self, what), f"market {what}")
        _positive_decimal(self.min_order_size, "market min_order_size", allow_zero=True)

    @classmethod
    def from_api(cls, market_json: Mapping[str, Any]) -> "SigningMarket":
        """Parse a market item: ``l2Config`` (hex ids, numeric resolutions) and ``tradingConfig``.

        JSON numbers are read through their shortest text form, so a float 0.1 becomes Decimal("0.1").
        """
        try:
            l2, trading = market_json["l2Config"], market_json["tradingConfig"]
            max_value = trading.get("maxPositionValue")
            max_limit, max_market = trading.get("maxLimitOrderValue"), trading.get("maxMarketOrderValue")
            return cls(
                name=str(market_json["name"]),
                synthetic_id=_parse_int(l2["syntheticId"], "l2Config.syntheticId"),
                collateral_id=_parse_int(l2["collateralId"], "l2Config.collateralId"),
                synthetic_resolution=_api_decimal(l2["syntheticResolution"], "syntheticResolution"),
                collateral_resolution=_api_decimal(l2["collateralResolution"], "collateralResolution"),
                min_order_size=_api_decimal(trading["minOrderSize"], "minOrderSize", allow_zero=True),
                min_order_size_change=_api_decimal(trading["minOrderSizeChange"], "minOrderSizeChange"),
                min_price_change=_api_decimal(trading["minPriceChange"], "minPriceChange"),
                max_position_value=None if max_value is None else _api_decimal(max_value, "maxPositionValue"),
                # 0 is a real limit (that order type switched off), not a malformed market
                max_limit_order_value=(None if max_limit is None
                                       else _api_decimal(max_limit, "maxLimitOrderValue", allow_zero=True)),
                max_market_order_value=(None if max_market is None
                                        else _api_decimal(max_market, "maxMarketOrderValue", allow_zero=True)),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"market item is missing or has a malformed field: {e}") from None


def _api_decimal(value: Any, what: str, allow_zero: bool = False) -> Decimal:
    """A decimal from exchange JSON (string, int or float) — floats only at parse time, via repr."""
    if isinstance(value, float):
        value = repr(value)
    return _positive_decimal(value, what, allow_zero)


class SettlementAmounts(NamedTuple):
    """Signed stark amounts: the side that is given away is negative (immutable; a tuple for speed)."""

    synthetic: int
    collateral: int
    fee: int

    def debugging_amounts(self) -> Dict[str, str]:
        return {"collateralAmount": str(self.collateral), "feeAmount": str(self.fee),
                "syntheticAmount": str(self.synthetic)}


def settlement_amounts(market: SigningMarket, side: str, qty: Decimal, price: Decimal,
                       fee_rate: Decimal) -> SettlementAmounts:
    """SDK arithmetic: amounts x resolution, BUY rounds up, SELL down, fee always up."""
    rounding = ROUND_UP if side == BUY else ROUND_DOWN
    multiply = _EXACT.multiply
    try:
        synthetic = int(multiply(qty, market.synthetic_resolution).to_integral_value(rounding))
        collateral_exact = multiply(multiply(qty, price), market.collateral_resolution)
        fee_exact = multiply(fee_rate, collateral_exact)
    except ArithmeticError:
        raise ValueError("qty, price or fee rate has too many digits to compute exact amounts") from None
    collateral = int(collateral_exact.to_integral_value(rounding))
    fee = int(fee_exact.to_integral_value(ROUND_UP))
    if side == BUY:
        return SettlementAmounts(synthetic, -collateral, fee)
    return SettlementAmounts(-synthetic, collateral, fee)


def settlement_expiration_seconds(expiry_ms: int) -> int:
    """Signed expiration: order expiry + 14 days, in seconds, rounded up."""
    return -(-(expiry_ms + SETTLEMENT_EXPIRY_BUFFER_MS) // 1000)


def order_message_hash(domain: SigningDomain, market: SigningMarket, amounts: SettlementAmounts,
                       expiration_seconds: int, nonce: int, vault: int, public_key: int) -> int:
    """Starknet order message hash (synthetic = base; collateral = quote and fee asset)."""
    return get_order_msg_hash(
        vault, market.synthetic_id, amounts.synthetic, market.collateral_id, amounts.collateral,
        market.collateral_id, amounts.fee, expiration_seconds, nonce, public_key,
        domain.name, domain.version, domain.chain_id, domain.revision)


def draw_nonce(rng: Union[Callable[[int, int], int], Any]) -> int:
    """A nonce in [1, 2^31] from a passed-in ``random.Random`` (or ``randint``-like callable)."""
    randint = rng.randint if hasattr(rng, "randint") else rng
    return validate_nonce(randint(NONCE_MIN, NONCE_MAX))


def validate_nonce(nonce: int) -> int:
    if isinstance(nonce, bool) or not isinstance(nonce, int) or not NONCE_MIN <= nonce <= NONCE_MAX:
        raise ValueError("nonce must be an integer in [1, 2^31]")
    return nonce


@dataclass(frozen=True)
class TpSlLeg:
    """A take-profit or stop-loss leg; it gets its own signed settlement."""

    trigger_price: Decimal
    trigger_price_type: str
    price: Decimal
    price_type: str = "LIMIT"


@dataclass(frozen=True)
class ConditionalTrigger:
    """The trigger of a CONDITIONAL order (not signed; carried in the body)."""

    trigger_price: Decimal
    trigger_price_type: str
    direction: str
    execution_price_type: str


class SignedSettlement(NamedTuple):
    """A signed order settlement: its amounts, message hash and signature (immutable)."""

    amounts: SettlementAmounts
    msg_hash: int
    r: int
    s: int

    def settlement_json(self, account: StarkAccount) -> Dict[str, Any]:
        return {"signature": {"r": hex(self.r), "s": hex(self.s)},
                "starkKey": account.public_key_hex, "collateralPosition": account.vault_str}


def _plain(number: Decimal) -> str:
    """Decimal as the caller gave it, but never in exponent notation."""
    return format(number, "f")


def _choice(value: str, allowed: frozenset, what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {sorted(allowed)}")
    return value


def _check_i64(amounts: SettlementAmounts) -> None:
    if max(abs(amounts.synthetic), abs(amounts.collateral), abs(amounts.fee)) > I64_MAX:
        raise ValueError("order amounts overflow the signed 64-bit range")


def _check_multiple(value: Decimal, step: Decimal, what: str) -> None:
    try:
        on_grid = _EXACT.remainder(value, step) == 0
    except ArithmeticError:
        on_grid = False
    if not on_grid:
        raise ValueError(f"{what} {value} is not a multiple of {step}")


def _check_qty(market: SigningMarket, qty: Decimal) -> Decimal:
    qty = _positive_decimal(qty, "qty")
    _check_multiple(qty, market.min_order_size_change, "qty")
    if qty < market.min_order_size:
        raise ValueError(f"qty {qty} is below the market minimum {market.min_order_size}")
    return qty


def _check_price(market: SigningMarket, price: Decimal, what: str = "price") -> Decimal:
    price = _positive_decimal(price, what)
    _check_multiple(price, market.min_price_change, what)
    return price


def _max_order_value(market: SigningMarket, order_type: str) -> Optional[Decimal]:
    if order_type == "LIMIT":
        return market.max_limit_order_value
    return market.max_market_order_value if order_type == "MARKET" else None


def _check_order_value(market: SigningMarket, order_type: str, qty: Decimal, price: Decimal) -> None:
    """qty x price within the market's maximum LIMIT / MARKET order value (when the market states one)."""
    max_value = _max_order_value(market, order_type)
    if max_value is None:
        return
    try:  # exact: the caller's decimal context (28 digits by default) could round a value down to the limit
        value = _EXACT.multiply(qty, price)
    except ArithmeticError:
        raise ValueError("qty or price has too many digits to compute the order value exactly") from None
    if value > max_value:
        raise ValueError(f"Order value {value} exceeds the {market.name} maximum order value {max_value}.")


def _check_expiry(domain: SigningDomain, expiry_ms: int, now_ms: int) -> None:
    if expiry_ms.__class__ is not int or now_ms.__class__ is not int:
        what = "expiry_ms" if expiry_ms.__class__ is not int else "now_ms"
        raise ValueError(f"{what} must be an integer (epoch milliseconds)")
    if expiry_ms <= now_ms:
        raise ValueError("expiry_ms is not in the future")
    if expiry_ms - now_ms > domain.max_expiry_ms:
        raise ValueError(f"expiry_ms is more than {domain.max_expiry_ms // DAY_MS} days ahead "
                         f"(limit of {domain.chain_id})")


def check_external_id(external_id: str) -> str:
    """Client order id used as the exchange external id: 1-32 chars of [A-Za-z0-9-]."""
    if not isinstance(external_id, str) or _EXTERNAL_ID.fullmatch(external_id) is None:
        raise ValueError("external id must be 1 to 32 characters of [A-Za-z0-9-]")
    return external_id


def _sign_strings(account: StarkAccount, domain: SigningDomain, market: SigningMarket, synthetic: str,
                  collateral: str, fee: str, expiration: str, nonce: str) -> Tuple[str, str, str]:
    """Message hash (hex) and signature (r, s decimal strings) from amounts already in text form."""
    collateral_id_hex = market.collateral_id_hex
    msg_hash_hex = rs_get_order_msg(
        account.vault_str, market.synthetic_id_hex, synthetic, collateral_id_hex, collateral, collateral_id_hex, fee,
        expiration, nonce, account.public_key_hex, domain.name, domain.version, domain.chain_id, domain.revision)
    r, s = rs_sign_message(account._private_key_hex, msg_hash_hex)
    return msg_hash_hex, r, s


def sign_settlement(account: StarkAccount, domain: SigningDomain, market: SigningMarket,
                    amounts: SettlementAmounts, expiration_seconds: int, nonce: int) -> SignedSettlement:
    """Hash and sign already-validated amounts.

    Calls fast-stark-crypto's string layer with the precomputed hex ids and keys; same result as
    ``order_message_hash`` + ``fast_stark_crypto.sign`` (the tests check both against the vectors).
    """
    msg_hash_hex, r, s = _sign_strings(account, domain, market, str(amounts.synthetic), str(amounts.collateral),
                                       str(amounts.fee), str(expiration_seconds), str(nonce))
    return SignedSettlement(amounts, int(msg_hash_hex, 16), int(r), int(s))


def _opposite(side: str) -> str:
    return SELL if side == BUY else BUY


def _check_order_options(side: str, order_type: str, time_in_force: str, self_trade_protection: str,
                         post_only: bool, reduce_only: bool, fee_rate: Decimal) -> Decimal:
    if side not in SIDES or order_type not in ORDER_TYPES or time_in_force not in TIME_IN_FORCES \
            or self_trade_protection not in SELF_TRADE_PROTECTION_LEVELS:
        _choice(side, SIDES, "side")
        _choice(order_type, ORDER_TYPES, "order type")
        _choice(time_in_force, TIME_IN_FORCES, "time in force")
        _choice(self_trade_protection, SELF_TRADE_PROTECTION_LEVELS, "self trade protection level")
    if post_only.__class__ is not bool or reduce_only.__class__ is not bool:
        raise ValueError("post_only and reduce_only must be booleans")
    if order_type == "TPSL" and (not reduce_only or post_only):
        raise ValueError("TPSL orders must be reduce-only and not post-only")
    return _positive_decimal(fee_rate, "fee_rate", allow_zero=True)


def _check_trigger(order_type: str, trigger: Optional[ConditionalTrigger]) -> None:
    if (order_type == "CONDITIONAL") != (trigger is not None):
        raise ValueError("a trigger is required for CONDITIONAL orders and allowed only for them")
    if trigger is not None:
        _positive_decimal(trigger.trigger_price, "trigger price")
        _choice(trigger.trigger_price_type, TRIGGER_PRICE_TYPES, "trigger price type")
        _choice(trigger.direction, TRIGGER_DIRECTIONS, "trigger direction")
        _choice(trigger.execution_price_type, EXECUTION_PRICE_TYPES, "execution price type")


def _check_main_qty_price(market: SigningMarket, order_type: str, tp_sl_type: Optional[str],
                          qty: Decimal, price: Decimal) -> Tuple[Decimal, Decimal]:
    if order_type != "TPSL":
        return _check_qty(market, qty), _check_price(market, price)
    if tp_sl_type not in TPSL_TYPES:
        raise ValueError(f"tp_sl_type is required for TPSL orders; expected one of {sorted(TPSL_TYPES)}")
    if _positive_decimal(price, "price", allow_zero=True) != 0:
        raise ValueError("price must be 0 for TPSL orders")
    if tp_sl_type == "POSITION":
        if _positive_decimal(qty, "qty", allow_zero=True) != 0:
            raise ValueError("qty must be 0 for POSITION TPSL orders")
        return qty, price
    return _check_qty(market, qty), price


def _leg_qty(market: SigningMarket, tp_sl_type: str, order_qty: Decimal, leg_price: Decimal) -> Decimal:
    """ORDER legs sign the order qty; POSITION legs sign maxPositionValue x 50 / price, floored to the step."""
    if tp_sl_type == "ORDER":
        return order_qty
    if market.max_position_value is None:
        raise ValueError("POSITION TPSL needs the market maxPositionValue")
    size = _DIVIDE_FLOOR.divide(_DIVIDE_FLOOR.multiply(market.max_position_value, POSITION_TPSL_VALUE_MULTIPLIER),
                                leg_price)
    return size.quantize(market.min_order_size_change, rounding=ROUND_FLOOR, context=_DIVIDE_FLOOR)


def _plan_legs(market: SigningMarket, order_type: str, side: str, qty: Decimal, fee_rate: Decimal,
               tp_sl_type: Optional[str], legs: Dict[str, Optional[TpSlLeg]]) -> Dict[str, Tuple]:
    """Validate TP/SL legs and compute their amounts; nothing is signed here."""
    given = {key: leg for key, leg in legs.items() if leg is not None}
    if tp_sl_type is None:
        if given or order_type == "TPSL":
            raise ValueError("tp_sl_type is required with take_profit / stop_loss and for TPSL orders")
        return {}
    _choice(tp_sl_type, TPSL_TYPES, "tp/sl type")
    if not given:
        raise ValueError("tp_sl_type given without take_profit or stop_loss")
    leg_side = side if order_type == "TPSL" else _opposite(side)
    planned = {}
    for key, leg in given.items():
        _positive_decimal(leg.trigger_price, f"{key} trigger price")
        _choice(leg.trigger_price_type, TRIGGER_PRICE_TYPES, f"{key} trigger price type")
        _choice(leg.price_type, TPSL_PRICE_TYPES, f"{key} price type")
        leg_price = _check_price(market, leg.price, f"{key} price")
        amounts = settlement_amounts(market, leg_side, _leg_qty(market, tp_sl_type, qty, leg_price),
                                     leg_price, fee_rate)
        _check_i64(amounts)
        planned[key] = (leg, amounts)
    return planned


def _leg_json(account: StarkAccount, leg: TpSlLeg, signed: SignedSettlement) -> Dict[str, Any]:
    return {"triggerPrice": _plain(leg.trigger_price), "triggerPriceType": leg.trigger_price_type,
            "price": _plain(leg.price), "priceType": leg.price_type,
            "settlement": signed.settlement_json(account),
            "debuggingAmounts": signed.amounts.debugging_amounts()}


def _trigger_json(trigger: ConditionalTrigger) -> Dict[str, str]:
    return {"triggerPrice": _plain(trigger.trigger_price), "triggerPriceType": trigger.trigger_price_type,
            "direction": trigger.direction, "executionPriceType": trigger.execution_price_type}


def _check_ids(external_id: Optional[str], cancel_id: Optional[str]) -> None:
    if external_id is not None:
        check_external_id(external_id)
    if cancel_id is not None and (not isinstance(cancel_id, str) or not cancel_id):
        raise ValueError("cancel_id must be a non-empty string")


def _body_head(order_id: str, market: SigningMarket, order_type: str, side: str, qty_text: str, price_text: str,
               reduce_only: bool, post_only: bool, time_in_force: str, expiry_ms: int, fee_text: str,
               nonce_text: str, self_trade_protection: str) -> Dict[str, Any]:
    """The fields every order body carries, in the documented order (settlement and the rest follow)."""
    return {"id": order_id, "market": market.name, "type": order_type, "side": side, "qty": qty_text,
            "price": price_text, "reduceOnly": reduce_only, "postOnly": post_only, "timeInForce": time_in_force,
            "expiryEpochMillis": expiry_ms, "fee": fee_text, "nonce": nonce_text,
            "selfTradeProtectionLevel": self_trade_protection}


def _signed_plain_body(account: StarkAccount, domain: SigningDomain, market: SigningMarket,
                       external_id: Optional[str], side: str, order_type: str, qty_text: str, price_text: str,
                       fee_text: str, expiry_ms: int, nonce: int, time_in_force: str, post_only: bool,
                       reduce_only: bool, self_trade_protection: str, amounts: SettlementAmounts,
                       cancel_id: Optional[str]) -> Dict[str, Any]:
    """Body of a validated LIMIT / MARKET order, then its hash and signature (``external_id=None``: the message
    hash is the id). The body is built before the Rust calls, only r and s are filled in after them."""
    synthetic, collateral, fee = amounts
    synthetic, collateral, fee = str(synthetic), str(collateral), str(fee)
    nonce_text = str(nonce)
    body = _body_head(external_id, market, order_type, side, qty_text, price_text, reduce_only, post_only,
                      time_in_force, expiry_ms, fee_text, nonce_text, self_trade_protection)
    if cancel_id is not None:
        body["cancelId"] = cancel_id
    signature: Dict[str, str] = {}
    body["settlement"] = {"signature": signature, "starkKey": account.public_key_hex,
                          "collateralPosition": account.vault_str}
    body["debuggingAmounts"] = {"collateralAmount": collateral, "feeAmount": fee, "syntheticAmount": synthetic}
    expiration = -(-(expiry_ms + SETTLEMENT_EXPIRY_BUFFER_MS) // 1000)  # settlement_expiration_seconds, inlined
    collateral_id = market.collateral_id_hex
    msg_hash_hex = rs_get_order_msg(account.vault_str, market.synthetic_id_hex, synthetic, collateral_id, collateral,
                                    collateral_id, fee, str(expiration), nonce_text, account.public_key_hex,
                                    domain.name, domain.version, domain.chain_id, domain.revision)
    r, s = rs_sign_message(account._private_key_hex, msg_hash_hex)
    signature["r"], signature["s"] = hex(int(r)), hex(int(s))
    if external_id is None:
        body["id"] = str(int(msg_hash_hex, 16))
    return body


def _decimal_places(value: Decimal) -> int:
    """Digits after the point of a value written without trailing zeros (0 for integers)."""
    return max(0, -value.normalize(_EXACT).as_tuple().exponent)


_POW10 = tuple(10 ** k for k in range(64))  # a text with more decimal places: off the fast path (IndexError)


class OrderSigner:
    """Signs LIMIT and MARKET orders of one account, in one market, on one network.

    Built once per market (the connector keeps one per trading pair), so that everything constant is computed
    once. The per-order path works on integers: qty and price are read from their decimal text (which the
    body carries anyway) as whole numbers of grid units, so that the size-step and tick checks and the SDK's
    amounts (BUY up, SELL down, fee up) are exact integer operations. The body is built *before* the hash
    and the signature (only r and s are filled in after), so that the Python work runs in one stretch.
    Anything this path does not take (other order types, inputs that are not Decimals / ints, text in
    exponent notation, any invalid value) goes through ``build_order_body``, which validates field by field,
    computes the amounts in Decimal (``settlement_amounts``) and raises the precise ``ValueError``; the
    tests compare both paths on random orders.
    """

    __slots__ = ("account", "domain", "market", "_max_expiry_ms", "_qty_scale", "_price_scale",
                 "_step_units", "_min_units", "_tick_units", "_synthetic_num", "_synthetic_den",
                 "_collateral_num", "_collateral_den", "_max_value_units", "_last_fee_rate", "_last_fee_terms")

    def __init__(self, account: StarkAccount, domain: SigningDomain, market: SigningMarket):
        self.account, self.domain, self.market = account, domain, market
        self._max_expiry_ms = domain.max_expiry_ms
        qty_places = max(_decimal_places(market.min_order_size_change), _decimal_places(market.min_order_size))
        price_places = _decimal_places(market.min_price_change)
        self._qty_scale, self._price_scale = 10 ** qty_places, 10 ** price_places
        self._step_units = int(market.min_order_size_change.scaleb(qty_places, _EXACT))
        self._min_units = int(market.min_order_size.scaleb(qty_places, _EXACT))
        self._tick_units = int(market.min_price_change.scaleb(price_places, _EXACT))
        # amount = units x resolution / 10^places, the resolution as an exact ratio
        synthetic_num, synthetic_den = market.synthetic_resolution.as_integer_ratio()
        collateral_num, collateral_den = market.collateral_resolution.as_integer_ratio()
        self._synthetic_num, self._synthetic_den = synthetic_num, synthetic_den * 10 ** qty_places
        self._collateral_num = collateral_num
        self._collateral_den = collateral_den * 10 ** (qty_places + price_places)
        # the largest qty x price, in units of 10^-(qty_places + price_places), per order type (None: no limit)
        self._max_value_units = {
            order_type: None if max_value is None else int(max_value.scaleb(qty_places + price_places, _EXACT)
                                                           .to_integral_value(ROUND_FLOOR))
            for order_type, max_value in ((t, _max_order_value(market, t)) for t in PLAIN_ORDER_TYPES)}
        self._last_fee_rate: Optional[Decimal] = None
        self._last_fee_terms: Optional[Tuple[str, int, int]] = None

    def __repr__(self) -> str:
        return f"OrderSigner({self.market.name}, {self.domain.chain_id}, {self.account!r})"

    def order_body(self, external_id: str, side: str, order_type: str, qty: Decimal, price: Decimal,
                   fee_rate: Decimal, expiry_ms: int, nonce: int, now_ms: int, time_in_force: str,
                   post_only: bool, reduce_only: bool, self_trade_protection: str) -> Dict[str, Any]:
        """Validate, sign and return the body of a LIMIT or MARKET order (same result as ``build_order_body``)."""
        amounts = None
        if (external_id.__class__ is str and qty.__class__ is Decimal and price.__class__ is Decimal
                and fee_rate.__class__ is Decimal and side in SIDES and order_type in PLAIN_ORDER_TYPES
                and time_in_force in TIME_IN_FORCES and self_trade_protection in SELF_TRADE_PROTECTION_LEVELS
                and post_only.__class__ is bool and reduce_only.__class__ is bool
                and nonce.__class__ is int and NONCE_MIN <= nonce <= NONCE_MAX
                and expiry_ms.__class__ is int and now_ms.__class__ is int
                and now_ms < expiry_ms <= now_ms + self._max_expiry_ms
                # [A-Za-z0-9-]{1,32} with at least one letter or digit, without the regex engine
                and len(external_id) <= 32 and external_id.isascii() and external_id.replace("-", "").isalnum()):
            fee_terms = self._last_fee_terms if fee_rate is self._last_fee_rate else self._fee_terms(fee_rate)
            if fee_terms is not None:
                fee_text, fee_num, fee_den = fee_terms
                qty_text, price_text = str(qty), str(price)
                amounts = self._amounts(side == BUY, qty_text, price_text, fee_num, fee_den,
                                        self._max_value_units[order_type])
        if amounts is None:
            return build_order_body(
                self.account, self.domain, self.market, external_id=external_id, side=side, order_type=order_type,
                qty=qty, price=price, fee_rate=fee_rate, expiry_ms=expiry_ms, nonce=nonce, now_ms=now_ms,
                time_in_force=time_in_force, post_only=post_only, reduce_only=reduce_only,
                self_trade_protection=self_trade_protection)
        return _signed_plain_body(self.account, self.domain, self.market, external_id, side, order_type, qty_text,
                                  price_text, fee_text, expiry_ms, nonce, time_in_force, post_only, reduce_only,
                                  self_trade_protection, amounts, None)

    def _fee_terms(self, fee_rate: Decimal) -> Optional[Tuple[str, int, int]]:
        """A fee rate's body text and, as ``fee = collateral x num / den`` (collateral in units), its num and den;
        None for a rate off this path. The last rate is kept: the connector passes a market's rate as one object
        (Decimals are immutable, so the same object means the same terms)."""
        fee_text = str(fee_rate)
        whole, _, fraction = fee_text.partition(".")
        try:
            terms = fee_text, int(whole + fraction), self._collateral_den * _POW10[len(fraction)]
        except (ValueError, IndexError):  # NaN, Infinity, exponent notation, too many decimal places
            return None
        if terms[1] < 0:
            return None
        self._last_fee_rate, self._last_fee_terms = fee_rate, terms
        return terms

    def _amounts(self, is_buy: bool, qty_text: str, price_text: str, fee_num: int, fee_den: int,
                 max_value_units: Optional[int]) -> Optional[Tuple[int, int, int]]:
        """The SDK's amounts in exact integers, or None for anything off this path (checked again, field by
        field, by ``build_order_body``): text that is not a plain decimal, qty off the step or below the
        minimum, price off the tick, an order value above the maximum, amounts beyond i64."""
        qty_whole, _, qty_fraction = qty_text.partition(".")
        price_whole, _, price_fraction = price_text.partition(".")
        try:  # units = text x 10^places, exact only when no digit lies beyond the places (rest 0)
            qty_units, qty_rest = divmod(int(qty_whole + qty_fraction) * self._qty_scale, _POW10[len(qty_fraction)])
            price_units, price_rest = divmod(int(price_whole + price_fraction) * self._price_scale,
                                             _POW10[len(price_fraction)])
        except (ValueError, IndexError):  # NaN, Infinity, exponent notation, too many decimal places
            return None
        if (qty_rest or price_rest or qty_units < self._min_units or qty_units <= 0 or qty_units % self._step_units
                or price_units <= 0 or price_units % self._tick_units):
            return None
        value_units = qty_units * price_units
        if max_value_units is not None and value_units > max_value_units:
            return None
        synthetic = qty_units * self._synthetic_num
        collateral = value_units * self._collateral_num
        den = self._collateral_den
        fee = -(-(collateral * fee_num) // fee_den)  # always up
        if is_buy:  # BUY rounds up (and gives collateral), SELL rounds down (and gives synthetic)
            synthetic, collateral = -(-synthetic // self._synthetic_den), (collateral // -den)
        else:
            synthetic, collateral = -(synthetic // self._synthetic_den), collateral // den
        if synthetic > I64_MAX or -synthetic > I64_MAX or collateral > I64_MAX or -collateral > I64_MAX \
                or fee > I64_MAX:
            return None
        return synthetic, collateral, fee


def build_order_body(account: StarkAccount, domain: SigningDomain, market: SigningMarket, *,
                     external_id: Optional[str], side: str, order_type: str, qty: Decimal, price: Decimal,
                     fee_rate: Decimal, expiry_ms: int, nonce: int, now_ms: int,
                     time_in_force: str = "GTT", post_only: bool = False, reduce_only: bool = False,
                     self_trade_protection: str = "ACCOUNT", cancel_id: Optional[str] = None,
                     trigger: Optional[ConditionalTrigger] = None, tp_sl_type: Optional[str] = None,
                     take_profit: Optional[TpSlLeg] = None,
                     stop_loss: Optional[TpSlLeg] = None) -> Dict[str, Any]:
    """Validate, sign and return the ``POST /api/v1/user/order`` body.

    Everything is checked before anything is signed. ``external_id=None`` uses the
    message hash as id (SDK behaviour). TP/SL legs reuse nonce, expiry and fee rate.
    """
    if external_id is not None:
        check_external_id(external_id)
    if cancel_id is not None:
        _check_ids(None, cancel_id)
    fee_rate = _check_order_options(side, order_type, time_in_force, self_trade_protection,
                                    post_only, reduce_only, fee_rate)
    validate_nonce(nonce)
    _check_expiry(domain, expiry_ms, now_ms)
    if trigger is not None or order_type == "CONDITIONAL":
        _check_trigger(order_type, trigger)
    if order_type != "TPSL":
        qty, price = _check_qty(market, qty), _check_price(market, price)
        _check_order_value(market, order_type, qty, price)
    else:
        qty, price = _check_main_qty_price(market, order_type, tp_sl_type, qty, price)
    amounts = settlement_amounts(market, side, qty, price, fee_rate)
    _check_i64(amounts)
    legs = {}
    if tp_sl_type is not None or take_profit is not None or stop_loss is not None or order_type == "TPSL":
        legs = _plan_legs(market, order_type, side, qty, fee_rate, tp_sl_type,
                          {"takeProfit": take_profit, "stopLoss": stop_loss})
    if not legs and order_type in PLAIN_ORDER_TYPES:
        return _signed_plain_body(account, domain, market, external_id, side, order_type, _plain(qty), _plain(price),
                                  _plain(fee_rate), expiry_ms, nonce, time_in_force, post_only, reduce_only,
                                  self_trade_protection, amounts, cancel_id)
    return _body_with_trigger_or_legs(account, domain, market, external_id, side, order_type, qty, price, fee_rate,
                                      expiry_ms, nonce, time_in_force, post_only, reduce_only, self_trade_protection,
                                      amounts, cancel_id, trigger, tp_sl_type, legs)


def _body_with_trigger_or_legs(account: StarkAccount, domain: SigningDomain, market: SigningMarket,
                               external_id: Optional[str], side: str, order_type: str, qty: Decimal, price: Decimal,
                               fee_rate: Decimal, expiry_ms: int, nonce: int, time_in_force: str, post_only: bool,
                               reduce_only: bool, self_trade_protection: str, amounts: SettlementAmounts,
                               cancel_id: Optional[str], trigger: Optional[ConditionalTrigger],
                               tp_sl_type: Optional[str], legs: Dict[str, Tuple]) -> Dict[str, Any]:
    """CONDITIONAL orders, orders with TP/SL legs and standalone TPSL orders (validated inputs)."""
    expiration = settlement_expiration_seconds(expiry_ms)
    settlement = None
    if order_type != "TPSL":
        signed = sign_settlement(account, domain, market, amounts, expiration, nonce)
        settlement, msg_hash = signed.settlement_json(account), signed.msg_hash
    else:  # a standalone TPSL order is hashed (for its id) but not signed
        msg_hash = order_message_hash(domain, market, amounts, expiration, nonce, account.vault, account.public_key)
    body = _body_head(external_id if external_id is not None else str(msg_hash), market, order_type, side,
                      _plain(qty), _plain(price), reduce_only, post_only, time_in_force, expiry_ms, _plain(fee_rate),
                      str(nonce), self_trade_protection)
    if cancel_id is not None:
        body["cancelId"] = cancel_id
    if settlement is not None:
        body["settlement"] = settlement
    if trigger is not None:
        body["trigger"] = _trigger_json(trigger)
    if legs:
        body["tpSlType"] = tp_sl_type
        for key, (leg, leg_amounts) in legs.items():
            leg_signed = sign_settlement(account, domain, market, leg_amounts, expiration, nonce)
            body[key] = _leg_json(account, leg, leg_signed)
    body["debuggingAmounts"] = amounts.debugging_amounts()
    return body
